using System.Net;

namespace WorkflowGraph.Tests.Api;

/// <summary>Bad requests get a clear GraphQL error with a code and a proper status, and never reach the database.</summary>
public sealed class BadInputTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    public static readonly TheoryData<string, string> Refused = new()
    {
        { "{ traces(first: 1) { nodes { id } }", "SYNTAX_ERROR" },
        { "{ traces { nodes { id nonsense } } }", "FIELDS_ON_CORRECT_TYPE" },
        { "{ traces(where: { status: { eq: DONE } }) { nodes { id } } }", "ARGUMENTS_OF_CORRECT_TYPE" },
        { "{ trace(id: { run: 7 }) { id } }", "ARGUMENTS_OF_CORRECT_TYPE" },
        { "{ traces(where: { startTime: { gt: \"yesterday\" } }) { nodes { id } } }", "ARGUMENTS_OF_CORRECT_TYPE" },
        {
            "{ traces { nodes { steps { trace { steps { trace { steps { trace { steps { trace { steps { trace { id rowId " +
            "} } } } } } } } } } } } }",
            "MAX_DEPTH_EXCEEDED"
        },
        { "{ a: traces(first: 100) { nodes { steps(first: 500) { events(first: 500) { id } } } } }", "MAX_COMPLEXITY_EXCEEDED" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task Refused_before_execution(string query, string code)
    {
        var response = await api.PostAsync(query);
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Contains(code, response.ErrorCodes);
        Assert.False(response.Body.TryGetProperty("data", out _));
        Assert.Empty(response.Statements);
    }

    [Fact]
    public async Task A_reused_document_is_still_measured_with_each_requests_variables()
    {
        const string query = "query ($n: Int) { traces(first: $n) { nodes { steps(first: 20) { events(first: 20) { id } } } } }";
        var cheap = await api.PostAsync(query, new { n = 1 });
        var costly = await api.PostAsync(query, new { n = 100 });
        Assert.Empty(cheap.ErrorCodes);
        Assert.Equal(HttpStatusCode.BadRequest, costly.Status);
        Assert.Contains("MAX_COMPLEXITY_EXCEEDED", costly.ErrorCodes);
        Assert.Empty(costly.Statements);
    }

    [Fact]
    public async Task A_variable_of_the_wrong_type_is_refused()
    {
        var response = await api.PostAsync("query ($n: Int) { traces(first: $n) { totalCount } }", new { n = "seven" });
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Contains("INVALID_VALUE", response.ErrorCodes);
        Assert.Empty(response.Statements);

        var id = await api.PostAsync("query ($id: ID!) { trace(id: $id) { id } }", new { id = new { run = 7 } });
        Assert.Equal(HttpStatusCode.BadRequest, id.Status);
        Assert.Empty(id.Statements);
    }

    [Fact]
    public async Task A_nul_character_in_a_filter_is_refused_before_it_can_break_the_transaction()
    {
        // PostgreSQL rejects NUL in text; sent to it, the error would abort the request's transaction for every field
        var response = await api.PostAsync(
            "query ($v: String) { a: traces(where: { externalId: { eq: $v } }) { totalCount } " +
            "b: trace(id: \"V29ya2Zsb3dUcmFjZTox\") { id } }",
            new { v = "x\u0000y" });
        Assert.Equal(["INVALID_FILTER"], response.ErrorCodes);
        Assert.DoesNotContain(response.Statements, s => s.Contains("external_id", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Introspection_is_not_limited_by_depth()
    {
        const string introspection = """
            query { __schema { types { name fields { name type { name kind ofType { name kind ofType { name kind ofType {
              name kind ofType { name kind ofType { name kind ofType { name kind ofType { name kind } } } } } } } } } } } }
            """;
        var response = await api.PostAsync(introspection);
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.True(response.Data.GetProperty("__schema").GetProperty("types").GetArrayLength() > 50);
        Assert.Empty(response.Statements);
    }

    [Fact]
    public async Task Errors_carry_codes_and_no_sql_or_stack()
    {
        var response = await api.PostAsync("{ workflowContext(traceId: \"V29ya2Zsb3dUcmFjZTo5OTk5OQ\") { key } }");
        Assert.Contains("NOT_FOUND", response.ErrorCodes);
        var text = response.Body.GetRawText();
        Assert.DoesNotContain("SELECT", text);
        Assert.DoesNotContain("   at ", text);
        Assert.DoesNotContain("Npgsql", text);
    }

    [Fact]
    public async Task A_failing_function_field_leaves_the_other_root_fields_answered()
    {
        // activeWorkflowConfig is nullable, so its error stays local; the transaction stays usable for the rest
        var response = await api.PostAsync("""
            {
              bad: activeWorkflowConfig(workflowId: "V29ya2Zsb3c6MDAwMDAwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAw") { id }
              good: workflowContext(traceId: "V29ya2Zsb3dUcmFjZToxOA") { key }
              traces(first: 1) { totalCount }
            }
            """);
        Assert.Contains("NOT_FOUND", response.ErrorCodes);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, response.Data.GetProperty("bad").ValueKind);
        Assert.Equal(2, response.Data.GetProperty("good").GetArrayLength());
        Assert.Equal(40, response.Data.GetProperty("traces").GetProperty("totalCount").GetInt32());
    }

    [Fact]
    public async Task An_error_in_a_non_null_root_field_nulls_the_data_as_the_spec_says()
    {
        var response = await api.PostAsync(
            "{ workflowContext(traceId: \"V29ya2Zsb3dUcmFjZTo5OTk5OQ\") { key } traces(first: 1) { totalCount } }");
        Assert.Contains("NOT_FOUND", response.ErrorCodes);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, response.Body.GetProperty("data").ValueKind);
    }
}
