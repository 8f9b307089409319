using System.Net;
using System.Text.Json;

namespace WorkflowGraph.Tests.Http;

public sealed class PostRequestTests(GraphQLApp app) : IClassFixture<GraphQLApp>
{
    private readonly HttpClient _client = app.CreateClient();

    [Theory]
    [InlineData(Requests.GraphQLResponseJson, Requests.GraphQLResponseJson)]
    [InlineData(Requests.Json, Requests.Json)]
    [InlineData(null, Requests.GraphQLResponseJson)]
    [InlineData("*/*", Requests.GraphQLResponseJson)]
    [InlineData("application/*", Requests.GraphQLResponseJson)]
    [InlineData("application/json, application/graphql-response+json;q=0.9", Requests.Json)]
    [InlineData("application/graphql-response+json;q=0, */*", Requests.Json)]
    [InlineData("text/html, application/json;q=0.5", Requests.Json)]
    public async Task Answers_a_query_in_the_negotiated_media_type_in_utf8(string? accept, string expected)
    {
        var response = await _client.SendAsync(Requests.PostQuery("{ __typename }", accept));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, response.MediaType());
        Assert.Equal("utf-8", response.Charset());
        Assert.Equal("Query", (await response.BodyAsync()).GetProperty("data").GetProperty("__typename").GetString());
    }

    [Fact]
    public async Task Runs_a_query_against_the_database_with_variables_and_operation_name()
    {
        var body = """
            {"query": "query Other { __typename } query Count($n: Int) { traces(first: $n) { totalCount } }",
             "operationName": "Count", "variables": {"n": 1}, "extensions": {"client": "tests"}}
            """;

        var response = await _client.SendAsync(Requests.Post(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.BodyAsync();
        Assert.Equal(JsonValueKind.Number, json.GetProperty("data").GetProperty("traces").GetProperty("totalCount").ValueKind);
    }

    [Theory]
    [InlineData("{ noSuchField }")]
    [InlineData("{")]
    [InlineData("query ($n: NoSuchType) { __typename }")]
    public async Task A_document_that_fails_before_execution_is_400_without_data_for_graphql_response_json(string query)
    {
        var response = await _client.SendAsync(Requests.PostQuery(query));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(Requests.GraphQLResponseJson, response.MediaType());
        var json = await response.BodyAsync();
        Assert.False(json.TryGetProperty("data", out _));
        Assert.NotEqual(0, json.GetProperty("errors").GetArrayLength());
    }

    [Theory]
    [InlineData("{ noSuchField }")]
    [InlineData("{")]
    public async Task A_document_that_fails_before_execution_is_200_for_application_json(string query)
    {
        var response = await _client.SendAsync(Requests.PostQuery(query, Requests.Json));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Requests.Json, response.MediaType());
        Assert.NotEqual(0, (await response.BodyAsync()).GetProperty("errors").GetArrayLength());
    }

    [Fact]
    public async Task A_field_error_during_execution_is_still_200_for_graphql_response_json()
    {
        // Valid GraphQL that the resolver refuses while executing.
        var response = await _client.SendAsync(Requests.PostQuery("{ traces(first: 1, last: 1) { totalCount } }"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.BodyAsync();
        Assert.True(json.TryGetProperty("data", out _));
        Assert.NotEqual(0, json.GetProperty("errors").GetArrayLength());
    }

    [Fact]
    public async Task Writes_json_without_escaping_what_json_does_not_require()
    {
        var body = """{"query": "query Q { __typename }", "operationName": "a+b<é>"}""";

        var text = await (await _client.SendAsync(Requests.Post(body))).Content.ReadAsStringAsync();

        Assert.Contains("a+b<é>", text);
        Assert.DoesNotContain(@"\u002B", text);
    }
}
