using System.Text.Json;
using WorkflowGraph.Execution;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Api;

/// <summary>
/// A cached document's variables, arguments and directives are read without the engine's walks
/// (<see cref="CachedOperationInputs"/>). Each case sends a document once so that it is cached, then each request's
/// variables twice: to the cached document, and to the same document with a space appended, which the cache has not
/// seen and the engine's own validator reads. The two answers must be the same, errors included.
/// </summary>
public sealed class CachedOperationInputsTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    private static int _fresh;

    /// <summary>The same document as a text the cache has not seen (one more trailing space per call).</summary>
    private static string Fresh(string query) => query + new string(' ', Interlocked.Increment(ref _fresh));

    private async Task<JsonElement> SameAnswerAsync(string query, object? variables, string? operationName = null)
    {
        var cached = await PostAsync(query, variables, operationName);
        var engine = await PostAsync(Fresh(query), variables, operationName);
        Assert.Equal(engine.GetRawText(), cached.GetRawText());
        return cached;
    }

    private async Task<JsonElement> PostAsync(string query, object? variables, string? operationName) =>
        (await api.PostAsync(query, variables, operationName: operationName)).Body;

    private async Task CacheAsync(string query, object? variables, string? operationName = null) =>
        await PostAsync(query, variables, operationName);

    [Fact]
    public async Task Directives_with_variables_follow_each_request()
    {
        const string query = """
            query ($skip: Boolean!, $with: Boolean!) { traces(first: 3) { nodes {
                rowId status @skip(if: $skip) ... @include(if: $with) { channel } } } }
            """;
        await CacheAsync(query, new { skip = false, with = false });
        var skipped = await SameAnswerAsync(query, new { skip = true, with = true });
        var node = skipped.GetProperty("data").GetProperty("traces").GetProperty("nodes")[0];
        Assert.False(node.TryGetProperty("status", out _));
        Assert.True(node.TryGetProperty("channel", out _));
        var kept = await SameAnswerAsync(query, new { skip = false, with = false });
        node = kept.GetProperty("data").GetProperty("traces").GetProperty("nodes")[0];
        Assert.True(node.TryGetProperty("status", out _));
        Assert.False(node.TryGetProperty("channel", out _));
    }

    [Fact]
    public async Task Arguments_in_fragments_spread_twice_and_under_aliases_take_each_requests_values()
    {
        const string query = """
            query ($n: Int, $m: Int, $status: TraceStatus) {
              a: traces(first: $n, where: { status: { eq: $status } }) { ...page }
              b: traces(first: $m) { ...page nodes { steps(first: $m) { rowId } } } }
            fragment page on TracesConnection { nodes { rowId status events(first: $n) { rowId } } }
            """;
        await CacheAsync(query, new { n = 1, m = 1, status = "COMPLETED" });
        var answer = await SameAnswerAsync(query, new { n = 3, m = 2, status = "FAILED" });
        var data = answer.GetProperty("data");
        var a = data.GetProperty("a").GetProperty("nodes");
        Assert.InRange(a.GetArrayLength(), 1, 3);
        Assert.All(a.EnumerateArray(), node => Assert.Equal("FAILED", node.GetProperty("status").GetString()));
        Assert.All(a.EnumerateArray(), node => Assert.InRange(node.GetProperty("events").GetArrayLength(), 0, 3));
        var b = data.GetProperty("b").GetProperty("nodes");
        Assert.Equal(2, b.GetArrayLength());
        Assert.All(b.EnumerateArray(), node => Assert.InRange(node.GetProperty("steps").GetArrayLength(), 0, 2));
    }

    [Fact]
    public async Task Bad_variables_get_the_engines_errors()
    {
        const string query =
            "query ($n: Int!, $status: TraceStatus) { traces(first: $n, where: { status: { eq: $status } }) { totalCount } }";
        await CacheAsync(query, new { n = 1 });
        foreach (var variables in new object?[]
                 {
                     new { n = "many" }, new { n = 1, status = "NOT_A_STATUS" }, new { status = "FAILED" }, null,
                     new { n = (int?)null },
                 })
        {
            var answer = await SameAnswerAsync(query, variables);
            Assert.True(answer.TryGetProperty("errors", out _));
        }
    }

    [Fact]
    public async Task A_nullable_variable_in_a_non_null_place_is_refused_as_the_engine_refuses_it()
    {
        // allowed by validation because of the default; an explicit null must still be refused (the variable's usages)
        var query = $$"""query ($id: ID = "{{Ids.Trace(7)}}") { trace(id: $id) { rowId } }""";
        await CacheAsync(query, null);
        var defaulted = await SameAnswerAsync(query, null);
        Assert.Equal(7, defaulted.GetProperty("data").GetProperty("trace").GetProperty("rowId").GetInt64());
        var refused = await SameAnswerAsync(query, new { id = (string?)null });
        Assert.True(refused.TryGetProperty("errors", out _));
        var given = await SameAnswerAsync(query, new { id = Ids.Trace(21) });
        Assert.Equal(21, given.GetProperty("data").GetProperty("trace").GetProperty("rowId").GetInt64());
    }

    [Fact]
    public async Task Each_operation_of_a_document_has_its_own_inputs()
    {
        const string query = """
            query One($n: Int!) { traces(first: $n) { nodes { rowId } } }
            query Two($id: ID!, $s: Boolean!) { trace(id: $id) { rowId status @skip(if: $s) } }
            """;
        await CacheAsync(query, new { n = 1 }, "One");
        await CacheAsync(query, new { id = Ids.Trace(7), s = true }, "Two");
        var one = await SameAnswerAsync(query, new { n = 2 }, "One");
        Assert.Equal(2, one.GetProperty("data").GetProperty("traces").GetProperty("nodes").GetArrayLength());
        var two = await SameAnswerAsync(query, new { id = Ids.Trace(21), s = false }, "Two");
        Assert.Equal(21, two.GetProperty("data").GetProperty("trace").GetProperty("rowId").GetInt64());
        Assert.True(two.GetProperty("data").GetProperty("trace").TryGetProperty("status", out _));
    }

    [Fact]
    public async Task Concurrent_requests_of_one_cached_document_each_get_their_own_variables()
    {
        const string query = "query ($id: ID!, $n: Int!) { trace(id: $id) { rowId steps(first: $n) { rowId } } }";
        await CacheAsync(query, new { id = Ids.Trace(7), n = 1 });
        var runs = new long[] { 7, 19, 21, 22 };
        var answers = await Task.WhenAll(Enumerable.Range(0, 48).Select(async i =>
        {
            var run = runs[i % runs.Length];
            var n = 1 + i % 3;
            var response = await api.PostAsync(query, new { id = Ids.Trace(run), n });
            return (run, n, response);
        }));
        foreach (var (run, n, response) in answers)
        {
            Assert.Empty(response.ErrorCodes);
            var trace = response.Data.GetProperty("trace");
            Assert.Equal(run, trace.GetProperty("rowId").GetInt64());
            Assert.InRange(trace.GetProperty("steps").GetArrayLength(), 0, n);
        }
    }
}
