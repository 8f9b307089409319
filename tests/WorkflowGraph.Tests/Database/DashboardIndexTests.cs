using System.Text.Json;
using Npgsql;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

/// <summary>
/// The dashboard query under row level security must be answered by the tenant-leading index with status and
/// channel inside the Index Cond (DESIGN.md §2: only LEAKPROOF operators may be used there under RLS; an enum's
/// equality is not, a text domain's is). 50k runs over 10 organisations, generated set-based and analysed.
/// </summary>
public sealed class DashboardIndexTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private const int Traces = 50_000;
    private static readonly Guid Org3 = Guid.Parse("00000000-0000-4000-8000-000000000003");

    private const string DashboardQuery =
        "SELECT id, status, channel, start_time FROM workflow_trace " +
        "WHERE status = 'failed' AND channel = 'web' ORDER BY start_time DESC, id DESC LIMIT 50";

    private const string StepLookup =
        "SELECT id, trace_id, node_id, step_number, status, start_time, end_time, duration_ms " +
        "FROM workflow_steps WHERE trace_id = ANY ($1) ORDER BY trace_id, step_number";

    // Org (g % 10), channel ((g / 10) % 3) and status ((g / 30) % 6) vary independently: every combination of the
    // 10 x 3 x 6 appears about 278 times. The runs of every second block of 180 (all combinations) have two steps.
    private static readonly string Generate = $"""
        INSERT INTO organizations (id, name)
        SELECT ('00000000-0000-4000-8000-' || lpad(o::text, 12, '0'))::uuid, 'Dashboard org ' || o FROM generate_series(0, 9) o;
        INSERT INTO workflows (id, org_id, name)
        SELECT ('00000000-0000-4000-9000-' || lpad(o::text, 12, '0'))::uuid, ('00000000-0000-4000-8000-' || lpad(o::text, 12, '0'))::uuid,
               'Eligibility Check'
          FROM generate_series(0, 9) o;
        INSERT INTO workflow_nodes (id, org_id, workflow_id, name, node_type)
        SELECT 100 + o, ('00000000-0000-4000-8000-' || lpad(o::text, 12, '0'))::uuid,
               ('00000000-0000-4000-9000-' || lpad(o::text, 12, '0'))::uuid, 'fetch', 'action'
          FROM generate_series(0, 9) o;

        INSERT INTO workflow_trace (id, org_id, workflow_id, channel, status, external_id, start_time, end_time)
        SELECT g,
               ('00000000-0000-4000-8000-' || lpad((g % 10)::text, 12, '0'))::uuid,
               ('00000000-0000-4000-9000-' || lpad((g % 10)::text, 12, '0'))::uuid,
               (ARRAY['web', 'voice', 'efax'])[1 + (g / 10) % 3],
               s.status,
               'EXT-' || g,
               s.start_time,
               CASE WHEN s.status IN ('pending', 'active') THEN NULL ELSE s.start_time + (g % 5000) * interval '1 millisecond' END
          FROM generate_series(1, {Traces}) g
         CROSS JOIN LATERAL (
               SELECT (ARRAY['pending', 'active', 'completed', 'failed', 'cancelled', 'timeout'])[1 + (g / 30) % 6] AS status,
                      timestamptz '2025-06-01 00:00:00+00' - g * interval '1 minute' AS start_time) s;

        INSERT INTO workflow_steps (org_id, trace_id, node_id, step_number, status, start_time, end_time)
        SELECT t.org_id, t.id, 100 + t.id % 10, k, 'completed', t.start_time, t.start_time + interval '5 milliseconds'
          FROM workflow_trace t CROSS JOIN generate_series(1, 2) k
         WHERE (t.id / 180) % 2 = 0;
        """;

    private async Task EnsureDataAsync()
    {
        await using (var owner = await db.OpenAsOwnerAsync())
        {
            if (await owner.Connection.ScalarAsync<long>("SELECT count(*) FROM workflow_trace") == Traces) return;
            // a bulk load: the statistics rollups' row triggers would run 100k times at commit; nothing here reads them
            await owner.Connection.ExecAsync("SET LOCAL workflowgraph.stats_rollups = off");
            await owner.Connection.ExecAsync(Generate);
            await owner.CommitAsync();
        }
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecAsync("ANALYZE organizations, workflows, workflow_nodes, workflow_trace, workflow_steps");
    }

    private static async Task<JsonElement> ExplainAsync(NpgsqlConnection conn, string sql, params object?[] args)
    {
        var json = await conn.ScalarAsync<string>("EXPLAIN (FORMAT JSON) " + sql, args);
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement[0].GetProperty("Plan").Clone();
    }

    private static IEnumerable<JsonElement> Nodes(JsonElement plan)
    {
        yield return plan;
        if (plan.TryGetProperty("Plans", out var children))
            foreach (var child in children.EnumerateArray())
                foreach (var node in Nodes(child))
                    yield return node;
    }

    private static string Text(JsonElement node, string property) =>
        node.TryGetProperty(property, out var value) ? value.GetString() ?? "" : "";

    [Fact]
    public async Task Dashboard_query_under_rls_is_an_index_scan_with_org_status_and_channel_in_the_index_condition()
    {
        await EnsureDataAsync();
        await using var tenant = await db.OpenAsTenantAsync(Org3);

        var plan = await ExplainAsync(tenant.Connection, DashboardQuery);

        var nodes = Nodes(plan).ToList();
        var scan = Assert.Single(nodes, n => Text(n, "Relation Name") == "workflow_trace");
        Assert.True(Text(scan, "Node Type") is "Index Scan" or "Index Only Scan", $"plan: {plan}");
        Assert.Equal("ix_workflow_trace__org_status_channel_start", Text(scan, "Index Name"));
        Assert.Equal("Forward", Text(scan, "Scan Direction"));
        var cond = Text(scan, "Index Cond");
        Assert.Contains("org_id =", cond);
        Assert.Contains("status", cond);
        Assert.Contains("'failed'", cond);
        Assert.Contains("channel", cond);
        Assert.Contains("'web'", cond);
        // nothing left to filter row by row, and the index order is the requested order
        Assert.False(scan.TryGetProperty("Filter", out var filter), $"filter left over: {filter}");
        Assert.DoesNotContain(nodes, n => Text(n, "Node Type") is "Sort" or "Incremental Sort" or "Seq Scan");

        var rows = await tenant.Connection.RowsAsync(DashboardQuery);
        Assert.Equal(50, rows.Count);
        Assert.All(rows, r => Assert.Equal(("failed", "web"), ((string)r["status"]!, (string)r["channel"]!)));
        var starts = rows.Select(r => (DateTime)r["start_time"]!).ToList();
        Assert.Equal(starts.OrderDescending(), starts);
        // only org 3's runs (g % 10 == 3)
        Assert.All(rows, r => Assert.Equal(3L, (long)r["id"]! % 10));
    }

    [Fact]
    public async Task Step_lookup_for_a_page_of_traces_uses_an_index()
    {
        await EnsureDataAsync();
        await using var tenant = await db.OpenAsTenantAsync(Org3);
        var traceIds = (await tenant.Connection.RowsAsync(DashboardQuery)).Select(r => (long)r["id"]!).ToArray();
        Assert.Equal(50, traceIds.Length);

        var plan = await ExplainAsync(tenant.Connection, StepLookup, traceIds);

        var nodes = Nodes(plan).ToList();
        Assert.DoesNotContain(nodes, n => Text(n, "Node Type") == "Seq Scan");
        var indexScan = Assert.Single(nodes, n =>
            Text(n, "Node Type") is "Index Scan" or "Index Only Scan" or "Bitmap Index Scan" &&
            Text(n, "Index Cond").Contains("trace_id = ANY"));
        var indexName = Text(indexScan, "Index Name");
        Assert.Equal("workflow_steps", await tenant.Connection.ScalarAsync<string>(
            "SELECT indrelid::regclass::text FROM pg_index WHERE indexrelid = $1::regclass", indexName));

        var steps = await tenant.Connection.RowsAsync(StepLookup, traceIds);
        var withSteps = traceIds.Count(id => id / 180 % 2 == 0);
        Assert.InRange(withSteps, 1, 49);
        Assert.Equal(withSteps * 2, steps.Count);
        Assert.All(steps, s => Assert.Contains((long)s["trace_id"]!, traceIds));
    }
}
