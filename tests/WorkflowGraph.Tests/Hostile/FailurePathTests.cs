using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using WorkflowGraph.Tests.Auth;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Http;
using WorkflowGraph.Tests.Infrastructure;
using static WorkflowGraph.Tests.Api.GraphApiFixture;

namespace WorkflowGraph.Tests.Hostile;

/// <summary>
/// Every way a request can fail gets a coded error (and the status GraphQL over HTTP gives it), nothing half written,
/// and no stack trace in the log for a client's mistake: bad bytes, over-deep documents, NUL characters, oversized
/// JSON and responses, timeouts, a client that leaves, and a database that goes away mid-request or mid-commit.
/// Runs 3, 13, 23, 33 (active) and 7, 17 (pending) of organisation A are the ones these tests write to or lock.
/// </summary>
public sealed class FailurePathTests(LimitedApiFixture api) : IClassFixture<LimitedApiFixture>
{
    private static readonly string SetContext = $"""
        mutation ($trace: {HostileIds.TraceIdType}, $key: String!, $value: JSON) {'{'}
          setWorkflowContext(input: {'{'} traceId: $trace, key: $key, value: $value {'}'}) {'{'}
            entry {'{'} key {'}'} errors {'{'} __typename ... on ValidationError {'{'} fields {'{'} field {'}'} {'}'} {'}'}
          {'}'}
        {'}'}
        """;

    private Task<Api.GraphResponse> SetContextAsync(long trace, string key, object? value) =>
        api.PostAsync(SetContext, new { trace = HostileIds.Trace(trace), key, value });

    private async Task<int> ContextEntriesAsync(long trace, string key)
    {
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        return (int)await connection.ScalarAsync<long>(
            "SELECT count(*) FROM workflow_trace_context WHERE trace_id = $1 AND key = $2", trace, key);
    }

    private HttpRequestMessage Post(string json, string accept = Requests.GraphQLResponseJson)
    {
        var request = Requests.Post(json, accept);
        request.Headers.TryAddWithoutValidation("Authorization", TestTokens.Bearer(OrgA, UserA));
        return request;
    }

    [Fact]
    public async Task A_body_that_is_not_utf8_is_a_400_with_a_code()
    {
        var bytes = Encoding.UTF8.GetBytes("{\"query\": \"{ traces { totalCount } }\", \"operationName\": \"X\"}").ToList();
        bytes.InsertRange(bytes.Count - 3, new byte[] { 0xC3, 0x28, 0xFF });
        using var request = Post("");
        request.Content = new ByteArrayContent([.. bytes]);
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await api.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("INVALID_ENCODING", await response.ErrorCodeAsync());
    }

    [Theory]
    [InlineData("filter")]
    [InlineData("json")]
    public async Task An_over_deep_literal_is_a_coded_error_without_a_stack_trace_in_the_log(string literal)
    {
        string query;
        if (literal == "filter")
        {
            var where = "{ status: { eq: FAILED } }";
            for (var i = 0; i < 45; i++)
                where = $"{{ and: [{where}] }}";
            query = $"{{ traces(where: {where}) {{ totalCount }} }}";
        }
        else
        {
            var json = "1";
            for (var i = 0; i < 300; i++)
                json = $"{{ a: {json} }}";
            query = $"mutation {{ setWorkflowContext(input: {{ traceId: {HostileIds.TraceLiteral(3)}, key: \"deep\", value: {json} }}) " +
                    "{ entry { key } } }";
        }
        var response = await api.PostAsync(query);
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal(["MAX_DEPTH_EXCEEDED"], response.ErrorCodes);
        Assert.Empty(response.Statements);
        Assert.DoesNotContain(api.Log.Exceptions, e => e.GetType().Name.Contains("Depth", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_nul_character_is_refused_by_validation_before_any_sql()
    {
        var literal = await api.PostAsync($"{{ workflowContext(traceId: {HostileIds.TraceLiteral(18)}, key: \"\\u0000\") {{ key }} }}");
        Assert.Equal(HttpStatusCode.BadRequest, literal.Status);
        Assert.Equal(["ARGUMENTS_OF_CORRECT_TYPE"], literal.ErrorCodes);
        Assert.Empty(literal.Statements);

        var inKey = await SetContextAsync(3, "a\u0000b", 1);
        Assert.Equal(HttpStatusCode.BadRequest, inKey.Status);
        Assert.Equal(["INVALID_VALUE"], inKey.ErrorCodes);
        Assert.Empty(inKey.Statements);

        var inJson = await SetContextAsync(3, "nul", new { text = "x\u0000y" });
        Assert.Equal(HttpStatusCode.BadRequest, inJson.Status);
        Assert.Equal(["INVALID_VALUE"], inJson.ErrorCodes);
        Assert.Empty(inJson.Statements);
    }

    [Fact]
    public async Task The_json_input_limit_holds_for_strings_and_numbers_too()
    {
        var longString = await SetContextAsync(3, "long-string", new string('x', 70_000));
        var longNumber = await api.PostAsync(
            SetContext.Replace("$value: JSON", "$value: JSON", StringComparison.Ordinal),
            JsonDocument.Parse($"{{\"trace\": \"{HostileIds.Trace(3)}\", \"key\": \"long-number\", \"value\": 1{new string('0', 70_000)}}}")
                .RootElement);
        foreach (var response in new[] { longString, longNumber })
        {
            var payload = response.Data.GetProperty("setWorkflowContext");
            Assert.Equal("ValidationError", payload.GetProperty("errors")[0].GetProperty("__typename").GetString());
            Assert.Equal("value", payload.GetProperty("errors")[0].GetProperty("fields")[0].GetProperty("field").GetString());
        }
        Assert.Equal(0, await ContextEntriesAsync(3, "long-string"));
        Assert.Equal(0, await ContextEntriesAsync(3, "long-number"));
        var small = await SetContextAsync(3, "small", "fine");
        Assert.Equal("small", small.Data.GetProperty("setWorkflowContext").GetProperty("entry").GetProperty("key").GetString());
    }

    [Fact]
    public async Task A_request_past_the_execution_timeout_ends_with_TIMEOUT()
    {
        await using (await api.LockRunAsync(13))
        {
            var clock = Stopwatch.StartNew();
            var response = await SetContextAsync(13, "waits", 1);
            Assert.Contains("TIMEOUT", response.ErrorCodes);
            Assert.InRange(clock.Elapsed.TotalSeconds, LimitedApiFixture.TimeoutSeconds - 1, LimitedApiFixture.TimeoutSeconds + 10);
        }
        Assert.Equal(0, await ContextEntriesAsync(13, "waits"));
    }

    [Fact]
    public async Task A_client_that_goes_away_stops_its_statement()
    {
        await using (await api.LockRunAsync(23))
        {
            using var leaving = new CancellationTokenSource();
            using var request = Post(JsonSerializer.Serialize(new
            {
                query = SetContext,
                variables = new { trace = HostileIds.Trace(23), key = "left", value = 1 },
            }));
            var sending = api.Client.SendAsync(request, leaving.Token);
            await api.WaitingBackendAsync("Lock");
            var left = Stopwatch.StartNew();
            await leaving.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);
            // the statement is cancelled at once, well before its statement_timeout would end it
            while (await api.LockWaitersAsync() > 0 && left.Elapsed < TimeSpan.FromSeconds(LimitedApiFixture.TimeoutSeconds - 2))
                await Task.Delay(50);
            Assert.Equal(0, await api.LockWaitersAsync());
        }
        Assert.Equal(0, await ContextEntriesAsync(23, "left"));
    }

    [Fact]
    public async Task A_database_that_goes_away_mid_mutation_is_DATABASE_UNAVAILABLE_and_retryable()
    {
        HttpResponseMessage response;
        await using (await api.LockRunAsync(33))
        {
            using var request = Post(JsonSerializer.Serialize(new
            {
                query = SetContext,
                variables = new { trace = HostileIds.Trace(33), key = "restarted", value = 1 },
            }));
            var sending = api.Client.SendAsync(request);
            // what a fast shutdown or restart does to the session: 57P01
            await api.TerminateAsync(await api.WaitingBackendAsync("Lock"));
            response = await sending;
        }
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        var error = (await response.BodyAsync()).GetProperty("errors")[0];
        Assert.Equal("DATABASE_UNAVAILABLE", error.GetProperty("extensions").GetProperty("code").GetString());
        Assert.True(error.GetProperty("extensions").GetProperty("retryable").GetBoolean());
        Assert.DoesNotContain(api.Log.Messages, m => m.Contains("already completed", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(0, await ContextEntriesAsync(33, "restarted"));

        // the pool recovers: the next request is answered
        var again = await SetContextAsync(33, "restarted", 1);
        Assert.Equal("restarted", again.Data.GetProperty("setWorkflowContext").GetProperty("entry").GetProperty("key").GetString());
    }

    [Fact]
    public async Task A_shutdown_during_commit_is_a_coded_error_and_nothing_is_saved()
    {
        // a deferred trigger makes COMMIT itself take a while: long enough to end the session in the middle of it
        await using (var connection = await api.Database.DataSource.OpenConnectionAsync())
            await connection.ExecAsync("""
                CREATE OR REPLACE FUNCTION test_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF NEW.key = 'slow-commit' THEN PERFORM pg_sleep(30); END IF;
                  RETURN NULL;
                END $$;
                DROP TRIGGER IF EXISTS slow_commit ON workflow_trace_context;
                CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON workflow_trace_context
                  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_slow_commit();
                """);
        using var request = Post(JsonSerializer.Serialize(new
        {
            query = SetContext,
            variables = new { trace = HostileIds.Trace(7), key = "slow-commit", value = 1 },
        }));
        var sending = api.Client.SendAsync(request);
        await api.TerminateAsync(await api.WaitingBackendAsync("Timeout", "PgSleep"));
        using var response = await sending;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var body = await response.BodyAsync();
        Assert.Equal(["DATABASE_UNAVAILABLE"], GraphQLErrors.Codes(body));
        Assert.Equal(JsonValueKind.Null, body.GetProperty("data").ValueKind);
        Assert.Equal(0, await ContextEntriesAsync(7, "slow-commit"));
    }

    [Fact]
    public async Task An_oversized_response_ends_with_RESPONSE_TOO_LARGE_and_a_mutation_is_not_committed()
    {
        const string nodes = "nodes { id externalId status channel startTime endTime errorMessage configSnapshot }";
        var fits = await api.PostAsync($"{{ traces(first: 10) {{ {nodes} }} }}");
        Assert.Empty(fits.ErrorCodes);
        var aliases = string.Join(' ', Enumerable.Range(0, 20).Select(i => $"a{i}: traces(first: 40) {{ {nodes} }}"));
        var tooLarge = await api.PostAsync($"{{ {aliases} }}");
        Assert.Equal(["RESPONSE_TOO_LARGE"], tooLarge.ErrorCodes);
        Assert.Equal(JsonValueKind.Null, tooLarge.Body.GetProperty("data").ValueKind);

        // the value is within the input limit, but asked for three times the answer is not
        var mutation = await api.PostAsync(
            $"mutation ($trace: {HostileIds.TraceIdType}, $value: JSON) {{ setWorkflowContext(input: " +
            "{ traceId: $trace, key: \"big-answer\", value: $value }) { entry { a: value b: value c: value } } }",
            new { trace = HostileIds.Trace(17), value = new string('v', 10_000) });
        Assert.Equal(["RESPONSE_TOO_LARGE"], mutation.ErrorCodes);
        Assert.Equal(0, await ContextEntriesAsync(17, "big-answer"));
    }
}
