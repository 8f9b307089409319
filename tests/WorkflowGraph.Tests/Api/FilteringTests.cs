using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Api;

/// <summary>
/// Every filter operation on every kind of field, checked against the same question asked in SQL directly
/// (as the owner, restricted to org A).
/// </summary>
public sealed class FilteringTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    private static readonly Guid Workflow2 = Guid.Parse("aaaaaaaa-2222-4000-8000-000000000002");

    public static readonly TheoryData<string, string> TraceFilters = new()
    {
        // String
        { "{ externalId: { eq: \"EXT-007\" } }", "external_id = 'EXT-007'" },
        { "{ externalId: { eq: null } }", "external_id IS NULL" },
        { "{ externalId: { neq: \"EXT-007\" } }", "external_id <> 'EXT-007'" },
        { "{ externalId: { neq: null } }", "external_id IS NOT NULL" },
        { "{ externalId: { contains: \"-01\" } }", "external_id LIKE '%-01%'" },
        { "{ externalId: { ncontains: \"-01\" } }", "external_id NOT LIKE '%-01%'" },
        { "{ externalId: { in: [\"EXT-001\", \"EXT-002\", \"nope\"] } }", "external_id IN ('EXT-001', 'EXT-002')" },
        { "{ externalId: { nin: [\"EXT-001\", \"EXT-002\"] } }", "external_id NOT IN ('EXT-001', 'EXT-002')" },
        // null among the values matches null (in) or excludes it (nin)
        { "{ externalId: { in: [\"EXT-001\", null] } }", "external_id = 'EXT-001' OR external_id IS NULL" },
        { "{ externalId: { in: [null] } }", "external_id IS NULL" },
        { "{ externalId: { nin: [\"EXT-001\", null] } }", "external_id IS NOT NULL AND external_id <> 'EXT-001'" },
        { "{ externalId: { startsWith: \"EXT-02\" } }", "external_id LIKE 'EXT-02%'" },
        { "{ externalId: { nstartsWith: \"EXT-02\" } }", "external_id NOT LIKE 'EXT-02%'" },
        { "{ externalId: { endsWith: \"3\" } }", "external_id LIKE '%3'" },
        { "{ externalId: { nendsWith: \"3\" } }", "external_id NOT LIKE '%3'" },
        { "{ externalId: { ieq: \"ext-007\" } }", "external_id = 'EXT-007'" },
        { "{ externalId: { icontains: \"xt-03\" } }", "external_id ILIKE '%xt-03%'" },
        // LIKE wildcards in the value match literally
        { "{ errorMessage: { contains: \"_1%\" } }", "error_message LIKE '%\\_1\\%%'" },
        { "{ errorMessage: { contains: \"%\" } }", "error_message LIKE '%\\%%'" },
        // Long and Int (the database key)
        { "{ rowId: { eq: 7 } }", "id = 7" },
        { "{ rowId: { in: [1, 2, 3, 45] } }", "id IN (1, 2, 3)" },
        { "{ rowId: { nin: [1, 2, 3] } }", "id NOT IN (1, 2, 3)" },
        { "{ rowId: { gt: 30 } }", "id > 30" },
        { "{ rowId: { gte: 30 } }", "id >= 30" },
        { "{ rowId: { lt: 5 } }", "id < 5" },
        { "{ rowId: { lte: 5 } }", "id <= 5" },
        { "{ rowId: { ngt: 30 } }", "NOT (id > 30)" },
        { "{ rowId: { ngte: 30 } }", "NOT (id >= 30)" },
        { "{ rowId: { nlt: 5 } }", "NOT (id < 5)" },
        { "{ rowId: { nlte: 5 } }", "NOT (id <= 5)" },
        { "{ durationMs: { gte: 20000, lt: 30000 } }", "duration_ms >= 20000 AND duration_ms < 30000" },
        { "{ durationMs: { eq: null } }", "duration_ms IS NULL" },
        // global ids: the row's own and those that refer to another row (an id of another type is refused, see BadInputTests)
        { $"{{ id: {{ eq: \"{Ids.Trace(7)}\" }} }}", "id = 7" },
        { $"{{ id: {{ in: [\"{Ids.Trace(1)}\", \"{Ids.Trace(2)}\", \"{Ids.Trace(45)}\"] }} }}", "id IN (1, 2)" },
        { $"{{ id: {{ nin: [\"{Ids.Trace(1)}\", \"{Ids.Trace(2)}\"] }} }}", "id NOT IN (1, 2)" },
        { $"{{ id: {{ neq: \"{Ids.Trace(7)}\" }} }}", "id <> 7" },
        { $"{{ workflowId: {{ eq: \"{Ids.Workflow(Workflow2)}\" }} }}", $"workflow_id = '{Workflow2}'" },
        { $"{{ workflowId: {{ neq: \"{Ids.Workflow(Workflow2)}\" }} }}", $"workflow_id <> '{Workflow2}'" },
        { $"{{ workflowId: {{ in: [\"{Ids.Workflow(Workflow2)}\"] }} }}", $"workflow_id = '{Workflow2}'" },
        { $"{{ workflowId: {{ nin: [\"{Ids.Workflow(Workflow2)}\"] }} }}", $"workflow_id <> '{Workflow2}'" },
        // DateTime
        { "{ startTime: { eq: \"2026-01-10T05:00:00Z\" } }", "start_time = '2026-01-10T05:00:00Z'" },
        { "{ startTime: { gt: \"2026-01-10T10:00:00+00:00\" } }", "start_time > '2026-01-10T10:00:00Z'" },
        { "{ startTime: { gte: \"2026-01-10T11:00:00+01:00\" } }", "start_time >= '2026-01-10T10:00:00Z'" },
        { "{ startTime: { lt: \"2026-01-10T03:00:00Z\" } }", "start_time < '2026-01-10T03:00:00Z'" },
        { "{ startTime: { lte: \"2026-01-10T03:00:00Z\" } }", "start_time <= '2026-01-10T03:00:00Z'" },
        { "{ startTime: { ngt: \"2026-01-10T03:00:00Z\" } }", "NOT (start_time > '2026-01-10T03:00:00Z')" },
        { "{ startTime: { ngte: \"2026-01-10T03:00:00Z\" } }", "NOT (start_time >= '2026-01-10T03:00:00Z')" },
        { "{ startTime: { nlt: \"2026-01-10T03:00:00Z\" } }", "NOT (start_time < '2026-01-10T03:00:00Z')" },
        { "{ startTime: { nlte: \"2026-01-10T03:00:00Z\" } }", "NOT (start_time <= '2026-01-10T03:00:00Z')" },
        { "{ startTime: { in: [\"2026-01-10T01:00:00Z\", \"2026-01-10T02:00:00Z\"] } }",
          "start_time IN ('2026-01-10T01:00:00Z', '2026-01-10T02:00:00Z')" },
        { "{ startTime: { nin: [\"2026-01-10T01:00:00Z\"] } }", "start_time <> '2026-01-10T01:00:00Z'" },
        { "{ endTime: { eq: null } }", "end_time IS NULL" },
        // Enums
        { "{ status: { eq: FAILED } }", "status = 'failed'" },
        { "{ status: { neq: FAILED } }", "status <> 'failed'" },
        { "{ status: { in: [ACTIVE, PENDING] } }", "status IN ('active', 'pending')" },
        { "{ status: { nin: [ACTIVE, PENDING] } }", "status NOT IN ('active', 'pending')" },
        { "{ status: { eq: COMPLETED }, channel: { eq: WEB } }", "status = 'completed' AND channel = 'web'" },
        // and / or, also inside an operation
        { "{ or: [{ status: { eq: FAILED } }, { channel: { eq: EFAX } }] }", "status = 'failed' OR channel = 'efax'" },
        { "{ and: [{ rowId: { gt: 5 } }, { rowId: { lt: 9 } }] }", "id > 5 AND id < 9" },
        { "{ or: [] }", "TRUE" },
        { "{ externalId: { or: [{ eq: \"EXT-001\" }, { endsWith: \"39\" }] } }", "external_id IN ('EXT-001', 'EXT-039')" },
        { "{ or: [{ and: [{ status: { eq: FAILED } }, { channel: { eq: WEB } }] }, { rowId: { eq: 1 } }] }",
          "(status = 'failed' AND channel = 'web') OR id = 1" },
        // nested object (to-one) filter
        { "{ workflow: { name: { eq: \"Claim Status\" } } }", "workflow_id = 'aaaaaaaa-2222-4000-8000-000000000002'" },
        { "{ workflow: { isActive: { eq: true } } }", "workflow_id = 'aaaaaaaa-2222-4000-8000-000000000001'" },
        { "{ workflow: { isActive: { neq: true } } }", "workflow_id = 'aaaaaaaa-2222-4000-8000-000000000002'" },
        // lists: some / all / none / any
        { "{ steps: { some: { status: { eq: FAILED } } } }",
          "EXISTS (SELECT 1 FROM workflow_steps s WHERE s.trace_id = t.id AND s.status = 'failed')" },
        { "{ steps: { none: { status: { eq: FAILED } } } }",
          "NOT EXISTS (SELECT 1 FROM workflow_steps s WHERE s.trace_id = t.id AND s.status = 'failed')" },
        { "{ steps: { all: { status: { eq: COMPLETED } } } }",
          "NOT EXISTS (SELECT 1 FROM workflow_steps s WHERE s.trace_id = t.id AND s.status <> 'completed')" },
        { "{ steps: { any: true } }", "EXISTS (SELECT 1 FROM workflow_steps s WHERE s.trace_id = t.id)" },
        { "{ steps: { any: false } }", "NOT EXISTS (SELECT 1 FROM workflow_steps s WHERE s.trace_id = t.id)" },
        { "{ steps: { some: { node: { name: { endsWith: \"step 3\" } } } } }",
          "EXISTS (SELECT 1 FROM workflow_steps s JOIN workflow_nodes n ON n.id = s.node_id " +
          "WHERE s.trace_id = t.id AND n.name LIKE '%step 3')" },
        { "{ context: { some: { key: { eq: \"payer\" } } } }",
          "EXISTS (SELECT 1 FROM workflow_trace_context c WHERE c.trace_id = t.id AND c.key = 'payer')" },
    };

    [Theory]
    [MemberData(nameof(TraceFilters))]
    public async Task Trace_filter_matches_the_same_question_in_sql(string where, string sqlCondition)
    {
        var response = await api.PostAsync($"{{ traces(first: 100, where: {where}) {{ nodes {{ rowId }} }} }}");
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        var actual = response.Data.GetProperty("traces").GetProperty("nodes").EnumerateArray()
            .Select(n => n.GetProperty("rowId").GetInt64()).Order().ToList();

        await using var conn = await api.Database.DataSource.OpenConnectionAsync();
        var expected = (await conn.RowsAsync(
                $"SELECT id FROM workflow_trace t WHERE org_id = $1 AND ({sqlCondition}) ORDER BY id", GraphApiFixture.OrgA))
            .Select(r => (long)r["id"]!).ToList();

        Assert.Equal(expected, actual);
        Assert.Single(response.Statements);
    }

    [Fact]
    public async Task Filters_reach_boolean_int_float_and_views()
    {
        var response = await api.PostAsync("""
            {
              workflows(where: { isActive: { eq: false } }) { nodes { name } }
              steps(first: 100, where: { retryCount: { gte: 1 }, stepNumber: { in: [1, 2] } }) { nodes { id } }
              channelPerformance(where: { successRate: { gt: 50.0 } }) { nodes { channel successRate } }
              failedSteps(first: 100, where: { traceStatus: { eq: FAILED } }) { totalCount }
            }
            """);
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        Assert.Equal("Claim Status",
            Assert.Single(response.Data.GetProperty("workflows").GetProperty("nodes").EnumerateArray()).GetProperty("name").GetString());

        await using var conn = await api.Database.DataSource.OpenConnectionAsync();
        var retried = await conn.ScalarAsync<long>(
            "SELECT count(*) FROM workflow_steps WHERE org_id = $1 AND retry_count >= 1 AND step_number IN (1, 2)", GraphApiFixture.OrgA);
        Assert.Equal(retried, response.Data.GetProperty("steps").GetProperty("nodes").GetArrayLength());
        Assert.All(response.Data.GetProperty("channelPerformance").GetProperty("nodes").EnumerateArray(),
            n => Assert.True(n.GetProperty("successRate").GetDouble() > 50));
        var rates = await conn.ScalarAsync<long>(
            "SELECT count(*) FROM v_workflow_channel_performance WHERE org_id = $1 AND success_rate > 50", GraphApiFixture.OrgA);
        Assert.Equal(rates, response.Data.GetProperty("channelPerformance").GetProperty("nodes").GetArrayLength());
        var failed = await conn.ScalarAsync<long>(
            "SELECT count(*) FROM v_failed_steps_analysis WHERE org_id = $1 AND trace_status = 'failed'", GraphApiFixture.OrgA);
        Assert.Equal(failed, response.Data.GetProperty("failedSteps").GetProperty("totalCount").GetInt64());
        Assert.Equal(4, response.Statements.Count);
    }

    [Fact]
    public async Task Nested_lists_filter_and_sort_inside_the_same_statement()
    {
        var response = await api.PostAsync("""
            { trace(id: "V29ya2Zsb3dUcmFjZToxOQ") { id steps(where: { status: { neq: FAILED } }, order: [{ stepNumber: DESC }]) {
              stepNumber status } } }
            """);
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        var steps = response.Data.GetProperty("trace").GetProperty("steps").EnumerateArray()
            .Select(s => s.GetProperty("stepNumber").GetInt32()).ToList();
        // run 19 failed: steps 1 and 2 completed, step 3 failed
        Assert.Equal([2, 1], steps);
        Assert.Single(response.Statements);
    }
}
