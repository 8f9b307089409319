using Npgsql;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

/// <summary>
/// sweep_workflow_runs (migration 026) as the service's owner connection calls it: expired leases, graceful cancels
/// nobody ended, run and step limits from the configuration, one sweeper at a time, and the index it reads.
/// Sweeps here look at this class's database only, and each assertion looks at its own organisation's runs.
/// </summary>
public sealed class RunSweeperTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private const string Sweep = "SELECT trace_id, outcome, reason FROM sweep_workflow_runs(500) WHERE org_id = $1";

    /// <summary>A run of a fresh organisation claimed by worker "w1" with one running step; the connection is the owner's.</summary>
    private static async Task<(TenantWorld World, long Run, long Step)> ClaimedRunAsync(NpgsqlConnection conn, int lease = 60)
    {
        var w = await TenantWorld.CreateAsync(conn, "Sweep");
        await conn.BecomeTenantAsync(w.OrgId, w.UserId);
        var run = await conn.ScalarAsync<long>("SELECT enqueue_workflow_execution($1, 'web')", w.WorkflowId);
        Assert.Equal(run, await conn.ScalarAsync<long>("SELECT claim_workflow_execution('{web}', NULL, 'w1', $1)", lease));
        var step = await w.StartStepAsync(conn, run, 1);
        await conn.ExecAsync("RESET ROLE");
        return (w, run, step);
    }

    private static Task ExpireLeaseAsync(NpgsqlConnection conn, long run) =>
        conn.ExecAsync("UPDATE workflow_trace SET lease_expires_at = clock_timestamp() - interval '1 second' WHERE id = $1", run);

    [Fact]
    public async Task An_expired_lease_ends_the_run_and_its_running_steps_as_timeout_with_their_events()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecAsync("BEGIN");
        var (w, run, step) = await ClaimedRunAsync(conn);
        Assert.Empty(await conn.RowsAsync(Sweep, w.OrgId));

        await ExpireLeaseAsync(conn, run);
        var swept = Assert.Single(await conn.RowsAsync(Sweep, w.OrgId));
        Assert.Equal((run, "timeout"), ((long)swept["trace_id"]!, (string)swept["outcome"]!));
        Assert.Contains("lease of worker w1 expired", (string)swept["reason"]!);

        Assert.Equal("timeout", await conn.ScalarAsync<string>("SELECT status FROM workflow_trace WHERE id = $1", run));
        Assert.Equal("timeout", await conn.ScalarAsync<string>("SELECT status FROM workflow_steps WHERE id = $1", step));
        var events = await conn.RowsAsync(
            "SELECT event_type, event_data ->> 'by' AS by FROM workflow_events WHERE trace_id = $1 ORDER BY id DESC LIMIT 2", run);
        Assert.Equal(("workflow_timeout", "sweeper"), ((string)events[0]["event_type"]!, (string)events[0]["by"]!));
        Assert.Equal("step_timeout", events[1]["event_type"]);
        // a second sweep finds nothing more
        Assert.Empty(await conn.RowsAsync(Sweep, w.OrgId));
        await conn.ExecAsync("ROLLBACK");
    }

    [Fact]
    public async Task A_graceful_cancel_the_worker_never_ended_becomes_cancelled_once_its_lease_passes()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecAsync("BEGIN");
        var (w, run, _) = await ClaimedRunAsync(conn);
        await conn.BecomeTenantAsync(w.OrgId, w.UserId);
        await conn.ExecAsync("SELECT cancel_workflow_execution($1, 'payer outage', 'graceful')", run);
        await conn.ExecAsync("RESET ROLE");
        Assert.Empty(await conn.RowsAsync(Sweep, w.OrgId));

        await ExpireLeaseAsync(conn, run);
        Assert.Equal("cancelled", Assert.Single(await conn.RowsAsync(Sweep, w.OrgId))["outcome"]);
        var trace = (await conn.RowsAsync("SELECT status, error_message FROM workflow_trace WHERE id = $1", run)).Single();
        Assert.Equal("cancelled", trace["status"]);
        Assert.Equal("cancelled: payer outage", trace["error_message"]);
        await conn.ExecAsync("ROLLBACK");
    }

    [Fact]
    public async Task Limits_come_from_the_workflow_channel_settings_then_the_organisation_default()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecAsync("BEGIN");
        var w = await TenantWorld.CreateAsync(conn, "Limits");
        await conn.ExecAsync(
            "INSERT INTO workflow_channel_configs (org_id, workflow_id, channel, settings) VALUES ($1, $2, 'web', " +
            "'{\"runControl\": {\"maxLeaseSeconds\": 120, \"maxRunSeconds\": 30, \"maxStepSeconds\": 10}}')", w.OrgId, w.WorkflowId);
        await conn.ExecAsync(
            "INSERT INTO workflow_configs (org_id, config_type, version, config, is_active) VALUES ($1, 'global', 1, " +
            "'{\"runControl\": {\"maxLeaseSeconds\": 50, \"maxRunSeconds\": 900}}', true)", w.OrgId);
        await conn.BecomeTenantAsync(w.OrgId, w.UserId);
        var limited = await conn.ScalarAsync<long>("SELECT enqueue_workflow_execution($1, 'web', NULL, NULL, NULL, 5)", w.WorkflowId);
        var other = await conn.ScalarAsync<long>("SELECT enqueue_workflow_execution($1, 'web')", w.OtherWorkflowId);
        const string claim = "SELECT claim_workflow_execution('{web}', ARRAY[$1]::uuid[], 'w1', $2)";

        Assert.Equal("WF003", (await conn.FailsAsync(claim, w.WorkflowId, 121)).SqlState);
        Assert.Equal(limited, await conn.ScalarAsync<long>(claim, w.WorkflowId, 120));
        Assert.Equal("WF003", (await conn.FailsAsync(claim, w.OtherWorkflowId, 51)).SqlState);
        Assert.Equal(other, await conn.ScalarAsync<long>(claim, w.OtherWorkflowId, 50));
        var runs = await conn.RowsAsync(
            "SELECT id, extract(epoch FROM run_deadline_at - claimed_at)::int AS run_limit, step_timeout_seconds FROM workflow_trace " +
            "WHERE id IN ($1, $2) ORDER BY id = $1 DESC", limited, other);
        Assert.Equal((30, 10), ((int)runs[0]["run_limit"]!, (int)runs[0]["step_timeout_seconds"]!));
        Assert.Equal(900, runs[1]["run_limit"]);
        Assert.Null(runs[1]["step_timeout_seconds"]);

        // a step older than the step limit ends the run
        var step = await w.StartStepAsync(conn, limited, 1);
        await conn.ExecAsync("RESET ROLE");
        Assert.Empty(await conn.RowsAsync(Sweep, w.OrgId));
        await conn.ExecAsync("UPDATE workflow_steps SET start_time = start_time - interval '11 seconds' WHERE id = $1", step);
        var swept = Assert.Single(await conn.RowsAsync(Sweep, w.OrgId));
        Assert.Equal((limited, "timeout"), ((long)swept["trace_id"]!, (string)swept["outcome"]!));
        Assert.Contains("step passed its limit of 10 seconds", (string)swept["reason"]!);

        // and a run past its deadline
        await conn.ExecAsync("UPDATE workflow_trace SET run_deadline_at = clock_timestamp() - interval '1 second' WHERE id = $1", other);
        Assert.Equal(other, Assert.Single(await conn.RowsAsync(Sweep, w.OrgId))["trace_id"]);
        Assert.Equal("timeout", await conn.ScalarAsync<string>("SELECT status FROM workflow_trace WHERE id = $1", other));
        await conn.ExecAsync("ROLLBACK");
    }

    [Fact]
    public async Task One_sweeper_at_a_time_the_others_return_at_once()
    {
        TenantWorld w;
        long run;
        await using (var setup = await db.DataSource.OpenConnectionAsync())
        {
            await setup.ExecAsync("BEGIN");
            (w, run, _) = await ClaimedRunAsync(setup);
            await ExpireLeaseAsync(setup, run);
            await setup.ExecAsync("COMMIT");
        }
        await using var holder = await db.DataSource.OpenConnectionAsync();
        await holder.ExecAsync("BEGIN");
        await holder.ExecAsync("SELECT pg_advisory_xact_lock(hashtext('workflow run sweeper'))");
        await using var other = await db.DataSource.OpenConnectionAsync();
        Assert.Empty(await other.RowsAsync(Sweep, w.OrgId));
        Assert.Equal("active", await other.ScalarAsync<string>("SELECT status FROM workflow_trace WHERE id = $1", run));

        await holder.ExecAsync("ROLLBACK");
        Assert.Equal(run, Assert.Single(await other.RowsAsync(Sweep, w.OrgId))["trace_id"]);
    }

    [Fact]
    public async Task The_sweepers_statement_reads_the_due_index_not_the_table()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecAsync("BEGIN");
        var w = await TenantWorld.CreateAsync(conn, "Plan");
        await conn.ExecAsync(
            "INSERT INTO workflow_trace (org_id, workflow_id, channel, status, start_time, end_time, lease_expires_at) " +
            "SELECT $1, $2, 'web', CASE WHEN g % 50 = 0 THEN 'active' ELSE 'completed' END, now() - interval '1 hour', " +
            "CASE WHEN g % 50 = 0 THEN NULL ELSE now() END, now() + (g % 7 - 1) * interval '1 minute' " +
            "FROM generate_series(1, 100000) g", w.OrgId, w.WorkflowId);
        await conn.ExecAsync("ANALYZE workflow_trace");
        await conn.ExecAsync("ANALYZE workflow_steps");

        var plan = string.Join("\n", (await conn.RowsAsync(
            "EXPLAIN SELECT t.id FROM workflow_trace t WHERE t.status = 'active' " +
            "AND least(t.lease_expires_at, t.run_deadline_at) < clock_timestamp() " +
            "ORDER BY least(t.lease_expires_at, t.run_deadline_at) LIMIT 500")).Select(r => (string)r["QUERY PLAN"]!));
        Assert.Contains("ix_workflow_trace__due", plan);
        Assert.DoesNotContain("Seq Scan", plan);
        await conn.ExecAsync("ROLLBACK");
    }

    [Fact]
    public async Task A_timed_out_run_is_re_enqueued_from_its_failure_while_the_retry_policy_has_attempts_left()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecAsync("BEGIN");
        var w = await TenantWorld.CreateAsync(conn, "Retry");
        await conn.ExecAsync(
            "INSERT INTO workflow_configs (org_id, config_type, version, config, is_active) VALUES ($1, 'global', 1, " +
            "'{\"runControl\": {\"retryMaxAttempts\": 2, \"retryBackoffSeconds\": 30}}', true)", w.OrgId);
        await conn.BecomeTenantAsync(w.OrgId, w.UserId);
        var run = await conn.ScalarAsync<long>("SELECT enqueue_workflow_execution($1, 'web')", w.WorkflowId);
        await conn.ExecAsync("SELECT claim_workflow_execution('{web}', NULL, 'w1', 60)");
        await TenantWorld.CompleteStepAsync(conn, await w.StartStepAsync(conn, run, 1), "completed");
        await w.StartStepAsync(conn, run, 2, 1);
        await conn.ExecAsync("RESET ROLE");
        await ExpireLeaseAsync(conn, run);

        Assert.Equal("timeout", Assert.Single(await conn.RowsAsync(Sweep, w.OrgId))["outcome"]);
        var retry = (await conn.RowsAsync(
            "SELECT id, status, attempt, parent_trace_id, root_trace_id, resume_from_step_number, " +
            "not_before > clock_timestamp() + interval '25 seconds' AS backed_off " +
            "FROM workflow_trace WHERE parent_trace_id = $1", run)).Single();
        Assert.Equal(("pending", 2, run, run, 2, true), ((string)retry["status"]!, (int)retry["attempt"]!, (long)retry["parent_trace_id"]!,
            (long)retry["root_trace_id"]!, (int)retry["resume_from_step_number"]!, (bool)retry["backed_off"]!));

        // the second attempt fails too: no attempts are left, nothing more is queued
        await conn.ExecAsync("UPDATE workflow_trace SET not_before = NULL WHERE id = $1", (long)retry["id"]!);
        await conn.BecomeTenantAsync(w.OrgId, w.UserId);
        Assert.Equal((long)retry["id"]!, await conn.ScalarAsync<long>("SELECT claim_workflow_execution('{web}', NULL, 'w2', 60)"));
        await conn.ExecAsync("SELECT complete_workflow_execution($1, 'failed', 'still down')", (long)retry["id"]!);
        Assert.Equal(0L,
            await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_trace WHERE parent_trace_id = $1", (long)retry["id"]!));
        await conn.ExecAsync("ROLLBACK");
    }
}
