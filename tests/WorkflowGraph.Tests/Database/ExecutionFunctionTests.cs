using Npgsql;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

/// <summary>
/// The execution helper functions, called as the service role of one organisation, each test in a transaction
/// that is rolled back.
/// </summary>
public sealed class ExecutionFunctionTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private async Task<(NpgsqlConnection Conn, TenantWorld World)> BeginAsTenantAsync()
    {
        var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecAsync("BEGIN");
        var world = await TenantWorld.CreateAsync(conn, "Org");
        await conn.BecomeTenantAsync(world.OrgId, world.UserId);
        return (conn, world);
    }

    private static Task<List<Dictionary<string, object?>>> EventsAsync(NpgsqlConnection conn, long traceId) =>
        conn.RowsAsync(
            "SELECT event_type, step_id, event_data::text AS data, org_id FROM workflow_events WHERE trace_id = $1 ORDER BY id", traceId);

    [Fact]
    public async Task Start_creates_an_active_run_with_its_event_and_audit_user()
    {
        var (conn, w) = await BeginAsTenantAsync();
        await using var _ = conn;

        var traceId = await w.StartRunAsync(conn, "voice", "EXT-1");

        var trace = (await conn.RowsAsync(
            "SELECT org_id, status, channel, external_id, created_by, end_time, duration_ms FROM workflow_trace WHERE id = $1",
            traceId)).Single();
        Assert.Equal(w.OrgId, trace["org_id"]);
        Assert.Equal("active", trace["status"]);
        Assert.Equal("voice", trace["channel"]);
        Assert.Equal("EXT-1", trace["external_id"]);
        Assert.Equal(w.UserId, trace["created_by"]);
        Assert.Null(trace["end_time"]);
        Assert.Null(trace["duration_ms"]);
        var events = await EventsAsync(conn, traceId);
        Assert.Equal("workflow_started", Assert.Single(events)["event_type"]);
        Assert.Equal(w.OrgId, events[0]["org_id"]);
    }

    [Fact]
    public async Task Start_with_the_same_external_id_returns_the_existing_run()
    {
        var (conn, w) = await BeginAsTenantAsync();
        await using var _ = conn;

        var first = await w.StartRunAsync(conn, "web", "EXT-42");
        var second = await w.StartRunAsync(conn, "web", "EXT-42");

        Assert.Equal(first, second);
        Assert.Equal(1L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_trace WHERE external_id = 'EXT-42'"));
        Assert.Single(await EventsAsync(conn, first));
    }

    [Fact]
    public async Task Start_without_a_snapshot_records_the_active_configuration()
    {
        var (conn, w) = await BeginAsTenantAsync();
        await using var _ = conn;
        await conn.ExecAsync(
            "INSERT INTO workflow_configs (workflow_id, config_type, config, is_active) " +
            "VALUES ($1, 'workflow', '{\"retry_limit\": 3}', true)", w.WorkflowId);
        var channelConfig = await conn.ScalarAsync<Guid>(
            "INSERT INTO workflow_configs (workflow_id, channel, config_type, config, is_active) " +
            "VALUES ($1, 'voice', 'channel', '{\"retry_limit\": 5}', true) RETURNING id",
            w.WorkflowId);

        var voice = await w.StartRunAsync(conn, "voice");
        var web = await w.StartRunAsync(conn, "web");
        var given = await conn.ScalarAsync<long>(
            "SELECT start_workflow_execution($1, 'web', NULL, '{\"pinned\": true}'::jsonb, NULL)", w.WorkflowId);

        Assert.Equal(channelConfig.ToString(),
            await conn.ScalarAsync<string>("SELECT config_snapshot ->> 'config_id' FROM workflow_trace WHERE id = $1", voice));
        Assert.Equal("5",
            await conn.ScalarAsync<string>("SELECT config_snapshot #>> '{config,retry_limit}' FROM workflow_trace WHERE id = $1", voice));
        Assert.Equal("3",
            await conn.ScalarAsync<string>("SELECT config_snapshot #>> '{config,retry_limit}' FROM workflow_trace WHERE id = $1", web));
        Assert.Equal("{\"pinned\": true}",
            await conn.ScalarAsync<string>("SELECT config_snapshot::text FROM workflow_trace WHERE id = $1", given));
    }

    [Theory]
    [InlineData("SELECT start_workflow_execution(NULL, 'web')", "WF003")]
    [InlineData("SELECT start_workflow_execution('00000000-0000-4000-8000-00000000dead', 'web')", "WF001")]
    [InlineData("SELECT start_workflow_execution(gen_random_uuid(), NULL)", "WF003")]
    [InlineData("SELECT start_workflow_execution(gen_random_uuid(), 'fax')", "23514")]
    [InlineData("SELECT start_workflow_execution(gen_random_uuid(), 'web', '   ')", "WF003")]
    [InlineData("SELECT start_workflow_execution('not-a-uuid', 'web')", "22P02")]
    public async Task Start_rejects_bad_input(string sql, string sqlState)
    {
        var (conn, _) = await BeginAsTenantAsync();
        await using var __ = conn;
        Assert.Equal(sqlState, (await conn.FailsAsync(sql)).SqlState);
        Assert.Equal(0L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_trace"));
    }

    [Fact]
    public async Task Start_refuses_an_inactive_workflow_and_a_disabled_channel()
    {
        var (conn, w) = await BeginAsTenantAsync();
        await using var _ = conn;
        await conn.ExecAsync(
            "INSERT INTO workflow_channel_configs (workflow_id, channel, is_enabled) VALUES ($1, 'efax', false)", w.WorkflowId);
        var disabled = await conn.FailsAsync("SELECT start_workflow_execution($1, 'efax')", w.WorkflowId);
        Assert.Equal("WF002", disabled.SqlState);
        Assert.Contains("disabled", disabled.MessageText);

        await conn.ExecAsync("UPDATE workflows SET is_active = false WHERE id = $1", w.WorkflowId);
        Assert.Equal("WF002", (await conn.FailsAsync("SELECT start_workflow_execution($1, 'web')", w.WorkflowId)).SqlState);
    }

    [Fact]
    public async Task A_full_run_writes_one_event_per_state_change_and_computes_durations()
    {
        var (conn, w) = await BeginAsTenantAsync();
        await using var _ = conn;

        var traceId = await w.StartRunAsync(conn);
        await conn.ExecAsync("SELECT set_workflow_context($1, 'payer', '\"Aetna\"'::jsonb)", traceId);
        var step1 = await w.StartStepAsync(conn, traceId, 1);
        await TenantWorld.CompleteStepAsync(conn, step1, "completed");
        var step2 = await w.StartStepAsync(conn, traceId, 2, 1);
        await TenantWorld.CompleteStepAsync(conn, step2, "failed", "portal timeout");
        Assert.Equal(step2, await conn.ScalarAsync<long>("SELECT retry_workflow_step($1)", step2));
        await TenantWorld.CompleteStepAsync(conn, step2, "completed");
        await conn.ExecAsync("SELECT complete_workflow_execution($1, 'completed', NULL)", traceId);

        var types = (await EventsAsync(conn, traceId)).Select(e => (string)e["event_type"]!).ToArray();
        Assert.Equal(new[]
        {
            "workflow_started", "context_set", "step_started", "step_completed", "step_started", "step_failed",
            "step_retried", "step_completed", "workflow_completed",
        }, types);
        var trace = (await conn.RowsAsync(
            "SELECT status, end_time IS NOT NULL AS ended, duration_ms FROM workflow_trace WHERE id = $1", traceId)).Single();
        Assert.Equal("completed", trace["status"]);
        Assert.True((bool)trace["ended"]!);
        Assert.True((long)trace["duration_ms"]! >= 0);
        var step = (await conn.RowsAsync(
            "SELECT status, retry_count, error_message, duration_ms FROM workflow_steps WHERE id = $1", step2)).Single();
        Assert.Equal("completed", step["status"]);
        Assert.Equal(1, step["retry_count"]);
        Assert.Null(step["error_message"]);
        Assert.NotNull(step["duration_ms"]);
        var retried = await conn.ScalarAsync<string>(
            "SELECT event_data ->> 'previous_error' FROM workflow_events WHERE step_id = $1 AND event_type = 'step_retried'", step2);
        Assert.Equal("portal timeout", retried);
    }

    [Fact]
    public async Task Steps_cannot_start_on_a_finished_run_nor_twice_with_one_number()
    {
        var (conn, w) = await BeginAsTenantAsync();
        await using var _ = conn;
        var traceId = await w.StartRunAsync(conn);
        await w.StartStepAsync(conn, traceId, 1);

        Assert.Equal("WF004", (await conn.FailsAsync("SELECT start_workflow_step($1, $2, 1, NULL)", traceId, w.NodeIds[1])).SqlState);
        Assert.Equal("WF003", (await conn.FailsAsync("SELECT start_workflow_step($1, $2, 0, NULL)", traceId, w.NodeIds[1])).SqlState);
        Assert.Equal("WF003", (await conn.FailsAsync("SELECT start_workflow_step($1, NULL, 3, NULL)", traceId)).SqlState);
        Assert.Equal("WF001", (await conn.FailsAsync("SELECT start_workflow_step(-1, $1, 3, NULL)", w.NodeIds[1])).SqlState);
        // a node of another workflow is not part of this run
        Assert.Equal("WF001", (await conn.FailsAsync("SELECT start_workflow_step($1, $2, 3, NULL)", traceId, w.OtherNodeId)).SqlState);

        await conn.ExecAsync("SELECT complete_workflow_execution($1, 'cancelled', 'operator stop')", traceId);
        var finished = await conn.FailsAsync("SELECT start_workflow_step($1, $2, 2, NULL)", traceId, w.NodeIds[1]);
        Assert.Equal("WF002", finished.SqlState);
        Assert.Contains("cancelled", finished.MessageText);
    }

    [Fact]
    public async Task A_pending_run_becomes_active_when_its_first_step_starts()
    {
        var (conn, w) = await BeginAsTenantAsync();
        await using var _ = conn;
        var traceId = await conn.ScalarAsync<long>(
            "INSERT INTO workflow_trace (workflow_id, channel) VALUES ($1, 'efax') RETURNING id", w.WorkflowId);
        Assert.Equal("pending", await conn.ScalarAsync<string>("SELECT status FROM workflow_trace WHERE id = $1", traceId));

        await w.StartStepAsync(conn, traceId, 1);

        Assert.Equal("active", await conn.ScalarAsync<string>("SELECT status FROM workflow_trace WHERE id = $1", traceId));
        Assert.Equal(new[] { "workflow_started", "step_started" },
            (await EventsAsync(conn, traceId)).Select(e => (string)e["event_type"]!));
    }

    [Fact]
    public async Task Completing_a_step_is_a_one_way_transition()
    {
        var (conn, w) = await BeginAsTenantAsync();
        await using var _ = conn;
        var traceId = await w.StartRunAsync(conn);
        var stepId = await w.StartStepAsync(conn, traceId, 1);
        await TenantWorld.CompleteStepAsync(conn, stepId, "completed");

        var again = await conn.FailsAsync("SELECT complete_workflow_step($1, 'completed', NULL, NULL)", stepId);
        Assert.Equal("WF002", again.SqlState);
        Assert.Contains("already completed", again.MessageText);
        Assert.Equal("WF003", (await conn.FailsAsync("SELECT complete_workflow_step($1, 'running', NULL, NULL)", stepId)).SqlState);
        Assert.Equal("WF003", (await conn.FailsAsync("SELECT complete_workflow_step($1, NULL, NULL, NULL)", stepId)).SqlState);
        Assert.Equal("23514", (await conn.FailsAsync("SELECT complete_workflow_step($1, 'done', NULL, NULL)", stepId)).SqlState);
        Assert.Equal("WF001", (await conn.FailsAsync("SELECT complete_workflow_step(-5, 'completed', NULL, NULL)")).SqlState);
        Assert.Equal("WF003", (await conn.FailsAsync("SELECT complete_workflow_step(NULL, 'completed', NULL, NULL)")).SqlState);
        Assert.Equal(1L, await conn.ScalarAsync<long>(
            "SELECT count(*) FROM workflow_events WHERE step_id = $1 AND event_type = 'step_completed'", stepId));
    }

    [Fact]
    public async Task Only_failed_or_timed_out_steps_of_open_runs_can_be_retried()
    {
        var (conn, w) = await BeginAsTenantAsync();
        await using var _ = conn;
        var traceId = await w.StartRunAsync(conn);
        var running = await w.StartStepAsync(conn, traceId, 1);
        Assert.Equal("WF002", (await conn.FailsAsync("SELECT retry_workflow_step($1)", running)).SqlState);
        await TenantWorld.CompleteStepAsync(conn, running, "completed");
        Assert.Equal("WF002", (await conn.FailsAsync("SELECT retry_workflow_step($1)", running)).SqlState);
        Assert.Equal("WF001", (await conn.FailsAsync("SELECT retry_workflow_step(-1)")).SqlState);
        Assert.Equal("WF003", (await conn.FailsAsync("SELECT retry_workflow_step(NULL)")).SqlState);

        var timedOut = await w.StartStepAsync(conn, traceId, 2);
        await TenantWorld.CompleteStepAsync(conn, timedOut, "timeout", "no answer");
        await conn.ExecAsync("SELECT retry_workflow_step($1)", timedOut);
        Assert.Equal("running", await conn.ScalarAsync<string>("SELECT status FROM workflow_steps WHERE id = $1", timedOut));

        var failed = await w.StartStepAsync(conn, traceId, 3);
        await TenantWorld.CompleteStepAsync(conn, failed, "failed", "boom");
        await conn.ExecAsync("SELECT complete_workflow_execution($1, 'failed', 'gave up')", traceId);
        var late = await conn.FailsAsync("SELECT retry_workflow_step($1)", failed);
        Assert.Equal("WF002", late.SqlState);
        Assert.Contains("finished run", late.MessageText);
    }

    [Fact]
    public async Task Completing_a_run_checks_its_state_and_its_open_steps()
    {
        var (conn, w) = await BeginAsTenantAsync();
        await using var _ = conn;
        var traceId = await w.StartRunAsync(conn);
        var open = await w.StartStepAsync(conn, traceId, 1);

        Assert.Equal("WF002", (await conn.FailsAsync("SELECT complete_workflow_execution($1, 'completed', NULL)", traceId)).SqlState);
        Assert.Equal("WF003", (await conn.FailsAsync("SELECT complete_workflow_execution($1, 'active', NULL)", traceId)).SqlState);
        Assert.Equal("WF003", (await conn.FailsAsync("SELECT complete_workflow_execution($1, NULL, NULL)", traceId)).SqlState);
        Assert.Equal("WF001", (await conn.FailsAsync("SELECT complete_workflow_execution(-1, 'failed', NULL)")).SqlState);

        await conn.ExecAsync("SELECT complete_workflow_execution($1, 'timeout', 'payer line busy')", traceId);

        var step = (await conn.RowsAsync("SELECT status, end_time IS NOT NULL AS ended FROM workflow_steps WHERE id = $1", open)).Single();
        Assert.Equal("cancelled", step["status"]);
        Assert.True((bool)step["ended"]!);
        var types = (await EventsAsync(conn, traceId)).Select(e => (string)e["event_type"]!).ToArray();
        Assert.Equal(new[] { "workflow_started", "step_started", "step_cancelled", "workflow_timeout" }, types);
        Assert.Equal("payer line busy", await conn.ScalarAsync<string>("SELECT error_message FROM workflow_trace WHERE id = $1", traceId));
        var again = await conn.FailsAsync("SELECT complete_workflow_execution($1, 'completed', NULL)", traceId);
        Assert.Equal("WF002", again.SqlState);
        Assert.Contains("already timeout", again.MessageText);
    }

    [Fact]
    public async Task Context_is_upserted_per_key_and_read_with_or_without_a_key()
    {
        var (conn, w) = await BeginAsTenantAsync();
        await using var _ = conn;
        var traceId = await w.StartRunAsync(conn);
        await conn.ExecAsync("SELECT set_workflow_context($1, 'session', '{\"id\": 1}'::jsonb)", traceId);
        await conn.ExecAsync("SELECT set_workflow_context($1, 'session', '{\"id\": 2}'::jsonb)", traceId);
        await conn.ExecAsync("SELECT set_workflow_context($1, 'attempt', NULL)", traceId);

        var all = await conn.RowsAsync("SELECT key, value::text AS value FROM get_workflow_context($1)", traceId);
        Assert.Equal(new[] { "attempt", "session" }, all.Select(r => (string)r["key"]!));
        Assert.Equal("null", all[0]["value"]);
        Assert.Equal("{\"id\": 2}", all[1]["value"]);
        var one = await conn.RowsAsync("SELECT key, value::text AS value FROM get_workflow_context($1, 'session')", traceId);
        Assert.Equal("{\"id\": 2}", Assert.Single(one)["value"]);
        Assert.Empty(await conn.RowsAsync("SELECT * FROM get_workflow_context($1, 'missing')", traceId));
        var created = await conn.RowsAsync(
            "SELECT (event_data ->> 'created')::boolean AS created FROM workflow_events " +
            "WHERE trace_id = $1 AND event_type = 'context_set' ORDER BY id", traceId);
        Assert.Equal(new object?[] { true, false, true }, created.Select(r => r["created"]));

        Assert.Equal("WF003", (await conn.FailsAsync("SELECT set_workflow_context($1, NULL, '1')", traceId)).SqlState);
        Assert.Equal("WF003", (await conn.FailsAsync("SELECT set_workflow_context($1, '', '1')", traceId)).SqlState);
        Assert.Equal("22P02", (await conn.FailsAsync("SELECT set_workflow_context($1, 'k', 'not json'::jsonb)", traceId)).SqlState);
        Assert.Equal("WF001", (await conn.FailsAsync("SELECT set_workflow_context(-1, 'k', '1')")).SqlState);
        Assert.Equal("WF001", (await conn.FailsAsync("SELECT * FROM get_workflow_context(-1)")).SqlState);
        await conn.ExecAsync("SELECT complete_workflow_execution($1, 'cancelled', NULL)", traceId);
        Assert.Equal("WF002", (await conn.FailsAsync("SELECT set_workflow_context($1, 'k', '1')", traceId)).SqlState);
    }

    [Fact]
    public async Task The_active_configuration_prefers_channel_then_workflow_then_global()
    {
        var (conn, w) = await BeginAsTenantAsync();
        await using var _ = conn;
        async Task<string?> ActiveName(string? channel) =>
            await conn.ScalarAsync<string?>("SELECT name FROM get_active_workflow_config($1, $2::workflow_channel)", w.WorkflowId, channel);

        Assert.Null(await ActiveName("web"));
        await conn.ExecAsync("INSERT INTO workflow_configs (config_type, name, is_active) VALUES ('global', 'global', true)");
        Assert.Equal("global", await ActiveName("web"));
        var v1 = await conn.ScalarAsync<Guid>(
            "INSERT INTO workflow_configs (workflow_id, config_type, name) VALUES ($1, 'workflow', 'workflow v1') RETURNING id",
            w.WorkflowId);
        Assert.Equal("global", await ActiveName(null));
        await conn.ExecAsync("SELECT activate_workflow_config($1)", v1);
        Assert.Equal("workflow v1", await ActiveName("web"));
        Assert.Equal("workflow v1", await ActiveName(null));
        await conn.ExecAsync(
            "INSERT INTO workflow_configs (workflow_id, channel, config_type, name, is_active) " +
            "VALUES ($1, 'voice', 'channel', 'voice', true)",
            w.WorkflowId);
        Assert.Equal("voice", await ActiveName("voice"));
        Assert.Equal("workflow v1", await ActiveName("web"));

        Assert.Equal("WF001", (await conn.FailsAsync("SELECT * FROM get_active_workflow_config(gen_random_uuid(), 'web')")).SqlState);
        Assert.Equal("WF003", (await conn.FailsAsync("SELECT * FROM get_active_workflow_config(NULL, 'web')")).SqlState);
    }

    [Fact]
    public async Task Activating_a_version_deactivates_the_previous_one_and_records_who()
    {
        var (conn, w) = await BeginAsTenantAsync();
        await using var _ = conn;
        var v1 = await conn.ScalarAsync<Guid>(
            "INSERT INTO workflow_configs (workflow_id, config_type, is_active) VALUES ($1, 'workflow', true) RETURNING id", w.WorkflowId);
        var v2 = await conn.ScalarAsync<Guid>(
            "INSERT INTO workflow_configs (workflow_id, config_type) VALUES ($1, 'workflow') RETURNING id", w.WorkflowId);
        Assert.Equal(2, await conn.ScalarAsync<int>("SELECT version FROM workflow_configs WHERE id = $1", v2));

        var activated = (await conn.RowsAsync("SELECT id, is_active FROM activate_workflow_config($1)", v2)).Single();
        Assert.True((bool)activated["is_active"]!);

        Assert.False(await conn.ScalarAsync<bool>("SELECT is_active FROM workflow_configs WHERE id = $1", v1));
        var status = await conn.RowsAsync(
            "SELECT entity_id, is_active, activated_by, deactivated_by FROM config_status " +
            "WHERE entity_type = 'workflow_config' ORDER BY is_active");
        Assert.Equal(2, status.Count);
        Assert.Equal(v1, status[0]["entity_id"]);
        Assert.Equal(w.UserId, status[0]["deactivated_by"]);
        Assert.Equal(v2, status[1]["entity_id"]);
        Assert.Equal(w.UserId, status[1]["activated_by"]);
        Assert.Equal(v2, await conn.ScalarAsync<Guid>("SELECT id FROM v_active_workflow_configs WHERE workflow_id = $1", w.WorkflowId));
        Assert.Equal("WF001", (await conn.FailsAsync("SELECT * FROM activate_workflow_config(gen_random_uuid())")).SqlState);
        // two active versions in one scope are impossible even without the function
        Assert.Equal("23505", (await conn.FailsAsync("UPDATE workflow_configs SET is_active = true WHERE id = $1", v1)).SqlState);
    }

    [Fact]
    public async Task Two_workers_completing_one_step_at_once_leave_exactly_one_winner()
    {
        // committed data: the workers need their own connections
        await using var setup = await db.DataSource.OpenConnectionAsync();
        var world = await TenantWorld.CreateAsync(setup, "Race");
        var traceId = await world.StartRunAsync(setup);
        var stepId = await world.StartStepAsync(setup, traceId, 1);

        async Task<string?> Worker(string output)
        {
            await using var conn = await db.DataSource.OpenConnectionAsync();
            await conn.ExecAsync("BEGIN");
            await conn.BecomeTenantAsync(world.OrgId, world.UserId);
            try
            {
                await conn.ExecAsync("SELECT complete_workflow_step($1, 'completed', $2::jsonb, NULL)", stepId, output);
                await conn.ExecAsync("SELECT pg_sleep(0.2)"); // hold the row lock while the other worker waits on it
                await conn.ExecAsync("COMMIT");
                return null;
            }
            catch (PostgresException e)
            {
                return e.SqlState;
            }
        }

        var outcomes = await Task.WhenAll(Worker("{\"worker\": 1}"), Worker("{\"worker\": 2}"));

        Assert.Single(outcomes, o => o is null);
        Assert.Single(outcomes, o => o == "WF002");
        Assert.Equal(1L, await setup.ScalarAsync<long>(
            "SELECT count(*) FROM workflow_events WHERE step_id = $1 AND event_type = 'step_completed'", stepId));
    }

    [Fact]
    public async Task The_seed_documents_usage_examples_run_unchanged()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecAsync("BEGIN");
        var dir = Path.Combine(AppContext.BaseDirectory, "Database");
        await conn.ExecAsync(await File.ReadAllTextAsync(Path.Combine(dir, "seed-usage-fixtures.sql")));
        await conn.ExecAsync(await File.ReadAllTextAsync(Path.Combine(dir, "seed-usage-examples.sql")));

        Assert.Equal("completed", await conn.ScalarAsync<string>("SELECT status FROM workflow_steps WHERE id = 2001"));
        Assert.Equal("{\"session_id\": \"abc123\"}",
            await conn.ScalarAsync<string>("SELECT value::text FROM get_workflow_context(1001, 'user_session')"));
        Assert.Equal(1L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_trace WHERE external_id = 'EXT-12345'"));
        Assert.Equal(2L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_steps WHERE trace_id = 1001"));
        await conn.ExecAsync("ROLLBACK");
    }
}
