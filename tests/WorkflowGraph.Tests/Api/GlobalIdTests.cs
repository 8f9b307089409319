using System.Text.Json;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Api;

/// <summary>
/// Global object identification: every Node's id fetches it again through node/nodes, ids never repeat across types,
/// and an id the API did not hand out (or of another type where one type is expected) is INVALID_ID before any SQL.
/// </summary>
public sealed class GlobalIdTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    /// <summary>A root list of each Node type (WorkflowNode through its workflow).</summary>
    private const string EveryNodeType = """
        {
          traces(first: 1) { nodes { __typename id } }
          steps(first: 1) { nodes { __typename id } }
          events(first: 1) { nodes { __typename id } }
          workflows(first: 1) { nodes { __typename id nodes(first: 1) { __typename id } } }
          workflowConfigs(first: 1) { nodes { __typename id } }
          channelConfigs(first: 1) { nodes { __typename id } }
          workflowChannelConfigs(first: 1) { nodes { __typename id } }
          nodeIoRequirements(first: 1) { nodes { __typename id } }
          workflowDataBindings(first: 1) { nodes { __typename id } }
          configStatuses(first: 1) { nodes { __typename id } }
          activeWorkflowConfigs(first: 1) { nodes { __typename id } }
          executionSummaries(first: 1) { nodes { __typename id } }
          nodeExecutionStats(first: 1) { nodes { __typename id } }
          executionTimeline(first: 1) { nodes { __typename id } }
          failedSteps(first: 1) { nodes { __typename id } }
        }
        """;

    [Fact]
    public async Task Every_node_type_is_fetched_again_by_its_id_in_one_statement()
    {
        var listed = await api.PostAsync(EveryNodeType);
        Assert.False(listed.Body.TryGetProperty("errors", out var errors), errors.ToString());
        var objects = Objects(listed.Data).ToList();
        Assert.Equal(16, objects.Select(o => o.Type).Distinct().Count());

        var ids = objects.Select(o => o.Id).ToArray();
        var fetched = await api.PostAsync("query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }", new { ids });
        Assert.False(fetched.Body.TryGetProperty("errors", out errors), errors.ToString());
        Assert.Equal(objects, fetched.Data.GetProperty("nodes").EnumerateArray()
            .Select(n => (n.GetProperty("__typename").GetString()!, n.GetProperty("id").GetString()!)));
        Assert.Single(fetched.Statements);

        foreach (var (type, id) in objects)
        {
            var one = await api.PostAsync("query ($id: ID!) { node(id: $id) { __typename id } }", new { id });
            Assert.Equal(type, one.Data.GetProperty("node").GetProperty("__typename").GetString());
            Assert.Equal(id, one.Data.GetProperty("node").GetProperty("id").GetString());
        }
    }

    [Fact]
    public async Task Rows_with_the_same_key_in_different_tables_have_different_ids()
    {
        // run 19 and its steps, events and the analytics rows built on them share small integer keys
        var response = await api.PostAsync($$"""
            {
              trace(id: "{{Ids.Trace(19)}}") { id rowId steps { id traceId events { id traceId stepId } } }
              executionSummaries(where: { traceId: { eq: "{{Ids.Trace(19)}}" } }) { nodes { id traceId } }
              executionTimeline(first: 100, where: { traceId: { eq: "{{Ids.Trace(19)}}" } }) { nodes { id eventId } }
            }
            """);
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        var trace = response.Data.GetProperty("trace");
        Assert.Equal(Ids.Trace(19), trace.GetProperty("id").GetString());
        Assert.Equal(19, trace.GetProperty("rowId").GetInt64());
        var summary = Assert.Single(response.Data.GetProperty("executionSummaries").GetProperty("nodes").EnumerateArray());
        Assert.Equal(Ids.Trace(19), summary.GetProperty("traceId").GetString());
        Assert.Equal(Ids.Of("ExecutionSummary", 19), summary.GetProperty("id").GetString());

        var own = new List<string> { trace.GetProperty("id").GetString()!, summary.GetProperty("id").GetString()! };
        foreach (var step in trace.GetProperty("steps").EnumerateArray())
        {
            own.Add(step.GetProperty("id").GetString()!);
            Assert.Equal(Ids.Trace(19), step.GetProperty("traceId").GetString());
            own.AddRange(step.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetString()!));
        }
        foreach (var entry in response.Data.GetProperty("executionTimeline").GetProperty("nodes").EnumerateArray())
        {
            own.Add(entry.GetProperty("id").GetString()!);
            Assert.StartsWith("WorkflowEvent:", Decoded(entry.GetProperty("eventId").GetString()!));
        }
        Assert.True(own.Count > 10);
        Assert.Equal(own.Count, own.Distinct().Count());
    }

    public static readonly TheoryData<string> NotIdsOfThisApi = new()
    {
        "seven",
        "",
        // the canonical form only: no padding, no other key spelling, no unknown type, no missing key
        Ids.Trace(19) + "==",
        Ids.Of("WorkflowTrace", "019"),
        Ids.Of("WorkflowTrace", "19.0"),
        Ids.Of("WorkflowRun", 19),
        Ids.Of("WorkflowTrace", ""),
        Ids.Of("Workflow", "AAAAAAAA-2222-4000-8000-000000000001"),
    };

    [Theory]
    [MemberData(nameof(NotIdsOfThisApi))]
    public async Task An_id_the_api_did_not_hand_out_is_invalid_everywhere(string id)
    {
        foreach (var query in new[]
        {
            "query ($id: ID!) { trace(id: $id) { id } }",
            "query ($id: ID!) { node(id: $id) { id } }",
            "query ($id: ID!) { nodes(ids: [$id]) { id } }",
            "query ($id: ID!) { traces(where: { id: { eq: $id } }) { totalCount } }",
            "query ($id: ID!) { steps(where: { traceId: { in: [$id] } }) { totalCount } }",
        })
        {
            var response = await api.PostAsync(query, new { id });
            Assert.Equal(["INVALID_ID"], response.ErrorCodes);
            Assert.Empty(response.Statements);
        }
    }

    [Fact]
    public async Task An_id_of_another_type_is_invalid_where_one_type_is_expected()
    {
        var step = Ids.Step(1193);
        foreach (var query in new[]
        {
            "query ($id: ID!) { trace(id: $id) { id } }",
            "query ($id: ID!) { workflow(id: $id) { id } }",
            "query ($id: ID!) { workflowContext(traceId: $id) { key } }",
            "query ($id: ID!) { activeWorkflowConfig(workflowId: $id) { id } }",
            "query ($id: ID!) { traces(where: { id: { eq: $id } }) { totalCount } }",
            "query ($id: ID!) { traces(where: { workflowId: { nin: [$id] } }) { totalCount } }",
            "query ($id: ID!) { events(where: { traceId: { eq: $id } }) { totalCount } }",
        })
        {
            var response = await api.PostAsync(query, new { id = step });
            Assert.Equal(["INVALID_ID"], response.ErrorCodes);
            Assert.Contains("WorkflowStep", response.Body.GetProperty("errors")[0].GetProperty("message").GetString());
            Assert.Empty(response.Statements);
        }
        // a literal of another scalar kind is not an id either
        var literal = await api.PostAsync("{ trace(id: 19) { id } }");
        Assert.Equal(["INVALID_ID"], literal.ErrorCodes);
        Assert.Empty(literal.Statements);
    }

    [Fact]
    public async Task Node_refuses_the_id_of_a_row_that_is_not_a_node()
    {
        // channel performance rows have a composite natural key: an id for caches, not refetchable
        var listed = await api.PostAsync("{ channelPerformance(first: 1) { nodes { id } } }");
        var id = listed.Data.GetProperty("channelPerformance").GetProperty("nodes")[0].GetProperty("id").GetString();
        var response = await api.PostAsync("query ($id: ID!) { node(id: $id) { id } }", new { id });
        Assert.Equal(["INVALID_ID"], response.ErrorCodes);
        Assert.Empty(response.Statements);
    }

    [Fact]
    public async Task Nodes_takes_at_most_a_page_of_ids_and_keeps_their_order_with_nulls_and_repeats()
    {
        var tooMany = Enumerable.Range(1, 101).Select(i => Ids.Trace(i)).ToArray();
        var refused = await api.PostAsync("query ($ids: [ID!]!) { nodes(ids: $ids) { id } }", new { ids = tooMany });
        Assert.Equal(["TOO_MANY_IDS"], refused.ErrorCodes);
        Assert.Empty(refused.Statements);

        string[] ids = [Ids.Trace(2), Ids.Trace(999999), Ids.Step(1193), Ids.Trace(2)];
        var response = await api.PostAsync("query ($ids: [ID!]!) { nodes(ids: $ids) { id } }", new { ids });
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        Assert.Equal([Ids.Trace(2), null, Ids.Step(1193), Ids.Trace(2)],
            response.Data.GetProperty("nodes").EnumerateArray()
                .Select(n => n.ValueKind == JsonValueKind.Null ? null : n.GetProperty("id").GetString()));
        var empty = await api.PostAsync("{ nodes(ids: []) { id } }");
        Assert.Equal(0, empty.Data.GetProperty("nodes").GetArrayLength());
        Assert.Empty(empty.Statements);
    }

    private static IEnumerable<(string Type, string Id)> Objects(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
                foreach (var found in Objects(item))
                    yield return found;
        }
        else if (element.ValueKind == JsonValueKind.Object)
        {
            if (element.TryGetProperty("__typename", out var type))
                yield return (type.GetString()!, element.GetProperty("id").GetString()!);
            foreach (var property in element.EnumerateObject().Where(p => p.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array))
                foreach (var found in Objects(property.Value))
                    yield return found;
        }
    }

    private static string Decoded(string id)
    {
        var base64 = id.Replace('-', '+').Replace('_', '/');
        return System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4,
            '=')));
    }
}
