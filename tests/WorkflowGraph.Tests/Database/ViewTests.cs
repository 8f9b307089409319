using WorkflowGraph.Tests.Infrastructure;
namespace WorkflowGraph.Tests.Database;

/// <summary>
/// The six analytics views against a small data set with explicit timestamps, so every duration, rate and
/// percentile below is computed by hand. The data set is committed once into this class's own database and the
/// tests only read; the figures are read as the service role of org A, the way the API reads them.
/// </summary>
public sealed class ViewTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private static readonly Guid OrgA = Guid.Parse("a0000000-0000-4000-8000-000000000001");
    private static readonly Guid OrgB = Guid.Parse("b0000000-0000-4000-8000-000000000002");
    private static readonly Guid UserA = Guid.Parse("a0000000-0000-4000-8000-0000000000a1");
    private static readonly Guid UserB = Guid.Parse("b0000000-0000-4000-8000-0000000000b1");
    private static readonly Guid Eligibility = Guid.Parse("a0000000-0000-4000-8000-00000000f001");
    private static readonly Guid PriorAuth = Guid.Parse("a0000000-0000-4000-8000-00000000f002");
    private static readonly Guid GlobalV2 = Guid.Parse("c0000000-0000-4000-8000-000000000002");
    private static readonly Guid EligibilityConfig = Guid.Parse("c0000000-0000-4000-8000-000000000003");
    private static readonly DateTime T0 = new(2024, 3, 4, 9, 0, 0, DateTimeKind.Utc);

    // Org A, workflow "Eligibility Check" (nodes 11 fetch_portal, 12 parse_response, 13 notify_payer) and
    // "Prior Auth" (node 21, never ran); org B, one workflow, node 31. Runs start at T0 + offset.
    //   web:   101 completed 500 ms, 102 completed 1000, 103 completed 2000, 104 failed 3000, 105 completed 10000,
    //          106 active (T0+5h)
    //   efax:  111 completed 1500, 112 completed 2500, 113 timeout 4000
    //   voice: 121 active, 122 cancelled 700
    //   Prior Auth web: 131 pending.  Org B web: 201 completed 1234.
    private const string DataSet = """
        INSERT INTO organizations (id, name) VALUES
          ('a0000000-0000-4000-8000-000000000001', 'Acme Health'),
          ('b0000000-0000-4000-8000-000000000002', 'Beta Billing');
        INSERT INTO users (id, org_id, email, role) VALUES
          ('a0000000-0000-4000-8000-0000000000a1', 'a0000000-0000-4000-8000-000000000001', 'ops@acme.example', 'admin'),
          ('b0000000-0000-4000-8000-0000000000b1', 'b0000000-0000-4000-8000-000000000002', 'ops@beta.example', 'admin');
        INSERT INTO workflows (id, org_id, name) VALUES
          ('a0000000-0000-4000-8000-00000000f001', 'a0000000-0000-4000-8000-000000000001', 'Eligibility Check'),
          ('a0000000-0000-4000-8000-00000000f002', 'a0000000-0000-4000-8000-000000000001', 'Prior Auth'),
          ('b0000000-0000-4000-8000-00000000f001', 'b0000000-0000-4000-8000-000000000002', 'Eligibility Check');
        INSERT INTO workflow_nodes (id, org_id, workflow_id, name, node_type, position) VALUES
          (11, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001', 'fetch_portal', 'http_fetch', 1),
          (12, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001', 'parse_response', 'parse', 2),
          (13, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001', 'notify_payer', 'notify', 3),
          (21, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f002', 'submit', 'http_post', 1),
          (31, 'b0000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-00000000f001', 'dial', 'voice_call', 1);

        INSERT INTO workflow_trace (id, org_id, workflow_id, channel, status, external_id, start_time, end_time, error_message)
        SELECT v.id, v.org_id, v.workflow_id, v.channel, v.status, 'EXT-' || v.id,
               timestamptz '2024-03-04 09:00:00+00' + v.start_offset,
               timestamptz '2024-03-04 09:00:00+00' + v.start_offset + v.duration_ms * interval '1 millisecond',
               v.error_message
          FROM (VALUES
            (101, 'a0000000-0000-4000-8000-000000000001'::uuid, 'a0000000-0000-4000-8000-00000000f001'::uuid,
             'web',   'completed', interval '0 hours',   500,   NULL::text),
            (102, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001',
             'web',   'completed', interval '1 hours',   1000,  NULL),
            (103, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001',
             'web',   'completed', interval '2 hours',   2000,  NULL),
            (104, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001',
             'web',   'failed',    interval '3 hours',   3000,  'portal returned 503'),
            (105, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001',
             'web',   'completed', interval '4 hours',   10000, NULL),
            (106, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001',
             'web',   'active',    interval '5 hours',   NULL,  NULL),
            (111, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001',
             'efax',  'completed', interval '0 hours',   1500,  NULL),
            (112, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001',
             'efax',  'completed', interval '1 hours',   2500,  NULL),
            (113, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001',
             'efax',  'timeout',   interval '2 hours',   4000,  'no fax tone'),
            (121, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001',
             'voice', 'active',    interval '0 hours',   NULL,  NULL),
            (122, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001',
             'voice', 'cancelled', interval '1 hours',   700,   NULL),
            (131, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f002',
             'web',   'pending',   interval '0 hours',   NULL,  NULL),
            (201, 'b0000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-00000000f001',
             'web',   'completed', interval '0 hours',   1234,  NULL)
          ) v (id, org_id, workflow_id, channel, status, start_offset, duration_ms, error_message);

        -- Steps start offset_ms after their run and last duration_ms (NULL: still running).
        INSERT INTO workflow_steps (id, org_id, trace_id, node_id, step_number, status, retry_count, error_message, start_time, end_time)
        SELECT v.id, t.org_id, v.trace_id, v.node_id, v.step_number, v.status, v.retry_count, v.error_message,
               t.start_time + v.offset_ms * interval '1 millisecond',
               t.start_time + (v.offset_ms + v.duration_ms) * interval '1 millisecond'
          FROM (VALUES
            (1001, 101, 11, 1, 'completed', 0,    200,  0, NULL::text),
            (1002, 101, 12, 2, 'completed', 200,  300,  0, NULL),
            (1003, 102, 11, 1, 'skipped',   0,    0,    0, NULL),
            (1004, 102, 12, 2, 'completed', 0,    700,  0, NULL),
            (1005, 104, 11, 1, 'completed', 0,    400,  0, NULL),
            (1006, 104, 12, 2, 'failed',    400,  1000, 2, 'unexpected payer response'),
            (1007, 104, 11, 3, 'cancelled', 1400, 100,  0, 'run ended as failed'),
            (1008, 106, 11, 1, 'timeout',   0,    600,  1, 'portal timeout'),
            (1009, 106, 12, 2, 'running',   600,  NULL, 0, NULL),
            (2001, 201, 31, 1, 'failed',    0,    200,  0, 'line busy')
          ) v (id, trace_id, node_id, step_number, status, offset_ms, duration_ms, retry_count, error_message)
          JOIN workflow_trace t ON t.id = v.trace_id;

        INSERT INTO workflow_events (id, org_id, trace_id, step_id, event_type, created_at)
        SELECT v.id, t.org_id, v.trace_id, v.step_id, v.event_type, t.start_time + v.offset_ms * interval '1 millisecond'
          FROM (VALUES
            (5001, 104, NULL::bigint, 'workflow_started', 0),
            (5002, 104, 1005,         'step_completed',   400),
            (5003, 104, 1006,         'step_failed',      1400),
            (5004, 104, NULL,         'workflow_failed',  3000),
            (5005, 106, NULL,         'workflow_started', 0),
            (5006, 106, 1008,         'step_timeout',     600),
            (5101, 201, NULL,         'workflow_started', 0),
            (5102, 201, 2001,         'step_failed',      200)
          ) v (id, trace_id, step_id, event_type, offset_ms)
          JOIN workflow_trace t ON t.id = v.trace_id;

        -- Configs: activation is recorded (config_status) with the user of the transaction.
        SELECT set_config('app.current_user_id', 'a0000000-0000-4000-8000-0000000000a1', true);
        INSERT INTO workflow_configs (id, org_id, workflow_id, channel, config_type, version, name, config, is_active) VALUES
          ('c0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001',
           NULL, NULL, 'global', 1, 'Defaults v1', '{"timeout_s": 30}', false),
          ('c0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000001',
           NULL, NULL, 'global', 2, 'Defaults v2', '{"timeout_s": 60}', true),
          ('c0000000-0000-4000-8000-000000000003', 'a0000000-0000-4000-8000-000000000001',
           'a0000000-0000-4000-8000-00000000f001', NULL, 'workflow', 1, 'Eligibility', '{"retries": 3}', true),
          ('c0000000-0000-4000-8000-000000000004', 'a0000000-0000-4000-8000-000000000001',
           'a0000000-0000-4000-8000-00000000f001', 'voice', 'channel', 1, 'Eligibility by phone (draft)', '{}', false);
        SELECT set_config('app.current_user_id', 'b0000000-0000-4000-8000-0000000000b1', true);
        INSERT INTO workflow_configs (id, org_id, workflow_id, channel, config_type, version, name, config, is_active) VALUES
          ('c0000000-0000-4000-8000-000000000005', 'b0000000-0000-4000-8000-000000000002',
           NULL, NULL, 'global', 1, 'Beta defaults', '{}', true);
        """;

    private async Task EnsureDataSetAsync()
    {
        await using var owner = await db.OpenAsOwnerAsync();
        if (await owner.Connection.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM organizations WHERE id = $1)", OrgA))
            return;
        await owner.Connection.ExecAsync(DataSet);
        await owner.CommitAsync();
    }

    private async Task<List<Dictionary<string, object?>>> RowsAsTenantAAsync(string sql, params object?[] args)
    {
        await EnsureDataSetAsync();
        await using var tenant = await db.OpenAsTenantAsync(OrgA, UserA);
        return await tenant.Connection.RowsAsync(sql, args);
    }

    [Fact]
    public async Task Active_configs_lists_only_the_active_version_of_each_scope_with_its_activation()
    {
        var rows = await RowsAsTenantAAsync("SELECT * FROM v_active_workflow_configs ORDER BY version DESC");

        Assert.Equal(2, rows.Count);
        var global = rows[0];
        Assert.Equal(GlobalV2, global["id"]);
        Assert.Equal(OrgA, global["org_id"]);
        Assert.Equal("Acme Health", global["org_name"]);
        Assert.Null(global["workflow_id"]);
        Assert.Null(global["workflow_name"]);
        Assert.Null(global["channel"]);
        Assert.Equal("global", global["config_type"]);
        Assert.Equal(2, global["version"]);
        Assert.Equal("Defaults v2", global["name"]);
        Assert.Equal(UserA, global["activated_by"]);
        Assert.NotNull(global["activated_at"]);

        var workflow = rows[1];
        Assert.Equal(EligibilityConfig, workflow["id"]);
        Assert.Equal(Eligibility, workflow["workflow_id"]);
        Assert.Equal("Eligibility Check", workflow["workflow_name"]);
        Assert.Equal("workflow", workflow["config_type"]);
        Assert.Equal(1, workflow["version"]);
        Assert.Equal(UserA, workflow["activated_by"]);
    }

    [Fact]
    public async Task Execution_summary_counts_steps_by_state_retries_and_average_finished_step_duration()
    {
        var rows = (await RowsAsTenantAAsync("SELECT * FROM v_workflow_execution_summary ORDER BY trace_id"))
            .ToDictionary(r => (long)r["trace_id"]!);

        Assert.Equal([101L, 102, 103, 104, 105, 106, 111, 112, 113, 121, 122, 131], rows.Keys.Order().ToArray());

        // 101: steps 200 + 300 ms, both completed.
        AssertSummary(
            rows[101], "completed", 500L, total: 2, completed: 2, failed: 0, running: 0, skipped: 0, retries: 0, avgStep: 250.00m);
        // 102: a skipped step (0 ms) and a completed one (700 ms): avg (0 + 700) / 2.
        AssertSummary(
            rows[102], "completed", 1000L, total: 2, completed: 1, failed: 0, running: 0, skipped: 1, retries: 0, avgStep: 350.00m);
        // 103: no steps at all.
        AssertSummary(rows[103], "completed", 2000L, total: 0, completed: 0, failed: 0, running: 0, skipped: 0, retries: 0, avgStep: null);
        // 104: completed 400, failed 1000 after 2 retries, cancelled 100: avg 1500 / 3.
        AssertSummary(rows[104], "failed", 3000L, total: 3, completed: 1, failed: 1, running: 0, skipped: 0, retries: 2, avgStep: 500.00m);
        Assert.Equal("portal returned 503", rows[104]["error_message"]);
        // 106 (active): a timed-out step (600 ms, 1 retry) counts as failed; the running one has no duration yet.
        AssertSummary(rows[106], "active", null, total: 2, completed: 0, failed: 1, running: 1, skipped: 0, retries: 1, avgStep: 600.00m);
        Assert.Null(rows[106]["end_time"]);
        AssertSummary(rows[131], "pending", null, total: 0, completed: 0, failed: 0, running: 0, skipped: 0, retries: 0, avgStep: null);

        Assert.Equal("Eligibility Check", rows[101]["workflow_name"]);
        Assert.Equal("Prior Auth", rows[131]["workflow_name"]);
        Assert.Equal("EXT-104", rows[104]["external_id"]);
        Assert.Equal("efax", rows[113]["channel"]);
        Assert.Equal(T0.AddHours(3), rows[104]["start_time"]);
        Assert.Equal(T0.AddHours(3).AddMilliseconds(3000), rows[104]["end_time"]);
    }

    private static void AssertSummary(Dictionary<string, object?> row, string status, long? durationMs, long total, long completed,
        long failed, long running, long skipped, long retries, decimal? avgStep)
    {
        var trace = row["trace_id"];
        Assert.True(Equals(status, row["status"]), $"trace {trace}: status {row["status"]}");
        Assert.True(Equals(durationMs, row["duration_ms"]), $"trace {trace}: duration_ms {row["duration_ms"]}");
        Assert.Equal((total, completed, failed, running, skipped, retries),
            ((long)row["total_steps"]!, (long)row["completed_steps"]!, (long)row["failed_steps"]!, (long)row["running_steps"]!,
             (long)row["skipped_steps"]!, (long)row["total_retries"]!));
        Assert.True(Equals(avgStep, row["avg_step_duration_ms"]), $"trace {trace}: avg_step_duration_ms {row["avg_step_duration_ms"]}");
    }

    [Fact]
    public async Task Channel_performance_rates_durations_and_percentiles_per_workflow_and_channel()
    {
        var rows = (await RowsAsTenantAAsync("SELECT * FROM v_workflow_channel_performance"))
            .ToDictionary(r => ((Guid)r["workflow_id"]!, (string)r["channel"]!));
        Assert.Equal(4, rows.Count);

        // web: finished durations sorted [500, 1000, 2000, 3000, 10000] (the active run 106 has none).
        //   success = 4 completed / 5 finished = 80.00 %; avg = 16500 / 5 = 3300.00
        //   p50: position 0.5 * (5 - 1) = 2 -> 2000;  p95: position 0.95 * 4 = 3.8 -> 3000 + 0.8 * (10000 - 3000) = 8600
        var web = rows[(Eligibility, "web")];
        Assert.Equal("Eligibility Check", web["workflow_name"]);
        AssertCounts(web, total: 6, completed: 4, failed: 1, cancelled: 0, timeout: 0, inProgress: 1);
        Assert.Equal(80.00m, web["success_rate"]);
        Assert.Equal(3300.00m, web["avg_duration_ms"]);
        Assert.Equal(500L, web["min_duration_ms"]);
        Assert.Equal(10000L, web["max_duration_ms"]);
        Assert.Equal(2000.0, (double)web["p50_duration_ms"]!, 6);
        Assert.Equal(8600.0, (double)web["p95_duration_ms"]!, 6);
        Assert.Equal(T0.AddHours(5), web["last_execution_at"]);

        // efax: [1500, 2500, 4000]; success = 2 / 3 = 66.666.. -> 66.67; avg = 8000 / 3 = 2666.666.. -> 2666.67
        //   p50: position 1 -> 2500;  p95: position 0.95 * 2 = 1.9 -> 2500 + 0.9 * (4000 - 2500) = 3850
        var efax = rows[(Eligibility, "efax")];
        AssertCounts(efax, total: 3, completed: 2, failed: 0, cancelled: 0, timeout: 1, inProgress: 0);
        Assert.Equal(66.67m, efax["success_rate"]);
        Assert.Equal(2666.67m, efax["avg_duration_ms"]);
        Assert.Equal(1500L, efax["min_duration_ms"]);
        Assert.Equal(4000L, efax["max_duration_ms"]);
        Assert.Equal(2500.0, (double)efax["p50_duration_ms"]!, 6);
        Assert.Equal(3850.0, (double)efax["p95_duration_ms"]!, 6);
        Assert.Equal(T0.AddHours(2), efax["last_execution_at"]);

        // voice: one active, one cancelled (700 ms): finished = 1, none completed -> 0.00, not NULL.
        var voice = rows[(Eligibility, "voice")];
        AssertCounts(voice, total: 2, completed: 0, failed: 0, cancelled: 1, timeout: 0, inProgress: 1);
        Assert.Equal(0.00m, voice["success_rate"]);
        Assert.Equal(700.00m, voice["avg_duration_ms"]);
        Assert.Equal(700.0, (double)voice["p50_duration_ms"]!, 6);
        Assert.Equal(700.0, (double)voice["p95_duration_ms"]!, 6);

        // Prior Auth: only a pending run; nothing finished, so no rate and no duration figures.
        var pending = rows[(PriorAuth, "web")];
        AssertCounts(pending, total: 1, completed: 0, failed: 0, cancelled: 0, timeout: 0, inProgress: 1);
        Assert.Null(pending["success_rate"]);
        Assert.Null(pending["avg_duration_ms"]);
        Assert.Null(pending["min_duration_ms"]);
        Assert.Null(pending["max_duration_ms"]);
        Assert.Null(pending["p50_duration_ms"]);
        Assert.Null(pending["p95_duration_ms"]);
        Assert.Equal(T0, pending["last_execution_at"]);
    }

    private static void AssertCounts(Dictionary<string, object?> row, long total, long completed, long failed, long cancelled,
        long timeout, long inProgress) =>
        Assert.Equal((total, completed, failed, cancelled, timeout, inProgress),
            ((long)row["total_executions"]!, (long)row["completed_executions"]!, (long)row["failed_executions"]!,
             (long)row["cancelled_executions"]!, (long)row["timeout_executions"]!, (long)row["in_progress_executions"]!));

    [Fact]
    public async Task Node_stats_cover_every_node_including_those_that_never_ran()
    {
        var rows = (await RowsAsTenantAAsync("SELECT * FROM v_node_execution_stats")).ToDictionary(r => (int)r["node_id"]!);
        Assert.Equal([11, 12, 13, 21], rows.Keys.Order().ToArray());

        // fetch_portal: completed 200, skipped 0, completed 400, cancelled 100, timeout 600 (1 retry).
        //   finished 5, completed 2 -> 40.00 %; avg 1300 / 5 = 260.00; sorted [0, 100, 200, 400, 600]
        //   p50: position 2 -> 200;  p95: position 3.8 -> 400 + 0.8 * 200 = 560
        var fetch = rows[11];
        Assert.Equal("fetch_portal", fetch["node_name"]);
        Assert.Equal("http_fetch", fetch["node_type"]);
        Assert.Equal("Eligibility Check", fetch["workflow_name"]);
        AssertNodeCounts(fetch, total: 5, completed: 2, failed: 1, skipped: 1, retries: 1);
        Assert.Equal(40.00m, fetch["success_rate"]);
        Assert.Equal(260.00m, fetch["avg_duration_ms"]);
        Assert.Equal(200.0, (double)fetch["p50_duration_ms"]!, 6);
        Assert.Equal(560.0, (double)fetch["p95_duration_ms"]!, 6);
        Assert.Equal(600L, fetch["max_duration_ms"]);
        Assert.Equal(T0.AddHours(5), fetch["last_executed_at"]);

        // parse_response: completed 300, completed 700, failed 1000 (2 retries), one still running (not finished).
        //   2 / 3 -> 66.67 %; avg 2000 / 3 -> 666.67; sorted [300, 700, 1000]
        //   p50: 700;  p95: position 1.9 -> 700 + 0.9 * 300 = 970
        var parse = rows[12];
        AssertNodeCounts(parse, total: 4, completed: 2, failed: 1, skipped: 0, retries: 2);
        Assert.Equal(66.67m, parse["success_rate"]);
        Assert.Equal(666.67m, parse["avg_duration_ms"]);
        Assert.Equal(700.0, (double)parse["p50_duration_ms"]!, 6);
        Assert.Equal(970.0, (double)parse["p95_duration_ms"]!, 6);
        Assert.Equal(1000L, parse["max_duration_ms"]);
        Assert.Equal(T0.AddHours(5).AddMilliseconds(600), parse["last_executed_at"]);

        foreach (var (nodeId, name) in new[] { (13, "notify_payer"), (21, "submit") })
        {
            var idle = rows[nodeId];
            Assert.Equal(name, idle["node_name"]);
            AssertNodeCounts(idle, total: 0, completed: 0, failed: 0, skipped: 0, retries: 0);
            Assert.Null(idle["success_rate"]);
            Assert.Null(idle["avg_duration_ms"]);
            Assert.Null(idle["p50_duration_ms"]);
            Assert.Null(idle["p95_duration_ms"]);
            Assert.Null(idle["max_duration_ms"]);
            Assert.Null(idle["last_executed_at"]);
        }
        Assert.Equal("Prior Auth", rows[21]["workflow_name"]);
    }

    private static void AssertNodeCounts(
        Dictionary<string, object?> row, long total, long completed, long failed, long skipped, long retries) =>
        Assert.Equal((total, completed, failed, skipped, retries),
            ((long)row["total_executions"]!, (long)row["completed_executions"]!, (long)row["failed_executions"]!,
             (long)row["skipped_executions"]!, (long)row["total_retries"]!));

    [Fact]
    public async Task Timeline_lists_each_event_with_its_step_node_and_elapsed_time_since_the_run_started()
    {
        var rows = await RowsAsTenantAAsync("SELECT * FROM v_workflow_execution_timeline WHERE trace_id = 104 ORDER BY event_id");

        Assert.Equal(
            [
                (5001L, (long?)null, (int?)null, (string?)null, "workflow_started", 0L),
                (5002L, 1005L, 1, "fetch_portal", "step_completed", 400L),
                (5003L, 1006L, 2, "parse_response", "step_failed", 1400L),
                (5004L, null, null, null, "workflow_failed", 3000L),
            ],
            rows.Select(r => ((long)r["event_id"]!, (long?)r["step_id"], (int?)r["step_number"], (string?)r["node_name"],
                (string)r["event_type"]!, (long)r["elapsed_ms"]!)).ToArray());
        Assert.All(rows, r =>
        {
            Assert.Equal("failed", r["trace_status"]);
            Assert.Equal("web", r["channel"]);
            Assert.Equal("Eligibility Check", r["workflow_name"]);
            Assert.Equal(Eligibility, r["workflow_id"]);
        });
        Assert.Equal(11, rows[1]["node_id"]);
        Assert.Equal(T0.AddHours(3).AddMilliseconds(1400), rows[2]["created_at"]);

        var active = await RowsAsTenantAAsync(
            "SELECT event_id, elapsed_ms, trace_status FROM v_workflow_execution_timeline WHERE trace_id = 106 ORDER BY event_id");
        Assert.Equal([(5005L, 0L), (5006L, 600L)], active.Select(r => ((long)r["event_id"]!, (long)r["elapsed_ms"]!)).ToArray());
        Assert.All(active, r => Assert.Equal("active", r["trace_status"]));
    }

    [Fact]
    public async Task Failed_steps_analysis_lists_only_failed_and_timed_out_steps()
    {
        var rows = await RowsAsTenantAAsync("SELECT * FROM v_failed_steps_analysis ORDER BY step_id");

        // Not the completed, skipped, cancelled (1007) or running (1009) steps.
        Assert.Equal([1006L, 1008L], rows.Select(r => (long)r["step_id"]!).ToArray());

        var failed = rows[0];
        Assert.Equal(104L, failed["trace_id"]);
        Assert.Equal("failed", failed["status"]);
        Assert.Equal("failed", failed["trace_status"]);
        Assert.Equal("EXT-104", failed["external_id"]);
        Assert.Equal("web", failed["channel"]);
        Assert.Equal("Eligibility Check", failed["workflow_name"]);
        Assert.Equal(12, failed["node_id"]);
        Assert.Equal("parse_response", failed["node_name"]);
        Assert.Equal("parse", failed["node_type"]);
        Assert.Equal(2, failed["step_number"]);
        Assert.Equal("unexpected payer response", failed["error_message"]);
        Assert.Equal(2, failed["retry_count"]);
        Assert.Equal(1000L, failed["duration_ms"]);
        Assert.Equal(T0.AddHours(3).AddMilliseconds(400), failed["start_time"]);

        var timedOut = rows[1];
        Assert.Equal(106L, timedOut["trace_id"]);
        Assert.Equal("timeout", timedOut["status"]);
        Assert.Equal("active", timedOut["trace_status"]);
        Assert.Equal("fetch_portal", timedOut["node_name"]);
        Assert.Equal(1, timedOut["retry_count"]);
        Assert.Equal(600L, timedOut["duration_ms"]);
    }

    public static TheoryData<string, long, long> Views => new()
    {
        { "v_active_workflow_configs", 2, 1 },
        { "v_workflow_execution_summary", 12, 1 },
        { "v_workflow_channel_performance", 4, 1 },
        { "v_node_execution_stats", 4, 1 },
        { "v_workflow_execution_timeline", 6, 2 },
        { "v_failed_steps_analysis", 2, 1 },
    };

    [Theory]
    [MemberData(nameof(Views))]
    public async Task Each_view_shows_the_service_role_only_its_own_organisation(string view, long rowsOfA, long rowsOfB)
    {
        await EnsureDataSetAsync();
        await using (var owner = await db.OpenAsOwnerAsync())
        {
            var byOrg = (await owner.Connection.RowsAsync($"SELECT org_id, count(*) AS n FROM {view} GROUP BY org_id"))
                .ToDictionary(r => (Guid)r["org_id"]!, r => (long)r["n"]!);
            Assert.Equal(new Dictionary<Guid, long> { [OrgA] = rowsOfA, [OrgB] = rowsOfB }, byOrg);
        }

        foreach (var (org, user, expected) in new[] { (OrgA, UserA, rowsOfA), (OrgB, UserB, rowsOfB) })
        {
            await using var tenant = await db.OpenAsTenantAsync(org, user);
            var orgs = (await tenant.Connection.RowsAsync($"SELECT org_id FROM {view}")).Select(r => (Guid)r["org_id"]!).ToList();
            Assert.Equal(expected, orgs.Count);
            Assert.All(orgs, o => Assert.Equal(org, o));
        }

        await using (var nobody = await db.OpenAsTenantAsync(orgId: null))
        {
            Assert.Equal(0L, await nobody.Connection.ScalarAsync<long>($"SELECT count(*) FROM {view}"));
        }
    }
}
