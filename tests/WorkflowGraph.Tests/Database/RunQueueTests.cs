using System.Collections.Concurrent;
using Npgsql;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

/// <summary>
/// The queue functions of migrations 025 and 042 called as the service role: claim order, filters, the state machine's
/// transition check, and many concurrent claimers that never get the same run.
/// </summary>
public sealed class RunQueueTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private const string Claim = "SELECT claim_workflow_execution($1::workflow_channel[], $2::uuid[], $3, $4)";

    private async Task<(NpgsqlConnection Conn, TenantWorld World)> BeginAsTenantAsync()
    {
        var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecAsync("BEGIN");
        var world = await TenantWorld.CreateAsync(conn, "Queue");
        await conn.BecomeTenantAsync(world.OrgId, world.UserId);
        return (conn, world);
    }

    private static Task<long> EnqueueAsync(NpgsqlConnection conn, Guid workflowId, string channel = "web", int priority = 0,
        DateTime? notBefore = null) =>
        conn.ScalarAsync<long>("SELECT enqueue_workflow_execution($1, $2::workflow_channel, NULL, NULL, NULL, $3, $4)",
            workflowId, channel, priority, (object?)notBefore ?? DBNull.Value);

    [Fact]
    public async Task Claim_takes_priority_first_then_age_and_skips_runs_not_yet_due()
    {
        var (conn, w) = await BeginAsTenantAsync();
        await using var _ = conn;
        var older = await EnqueueAsync(conn, w.WorkflowId);
        var newer = await EnqueueAsync(conn, w.WorkflowId);
        var urgent = await EnqueueAsync(conn, w.WorkflowId, priority: 10);
        await EnqueueAsync(conn, w.WorkflowId, priority: 100, notBefore: DateTime.UtcNow.AddHours(1));
        var voice = await EnqueueAsync(conn, w.OtherWorkflowId, "voice", priority: 50);

        var web = new[] { "web" };
        Assert.Equal(urgent, await conn.ScalarAsync<long>(Claim, web, DBNull.Value, "w1", 60));
        Assert.Equal(older, await conn.ScalarAsync<long>(Claim, web, DBNull.Value, "w1", 60));
        Assert.Equal(newer, await conn.ScalarAsync<long>(Claim, web, DBNull.Value, "w1", 60));
        // only the future run is left on web: nothing is ready
        Assert.Null(await conn.ScalarAsync<long?>(Claim, web, DBNull.Value, "w1", 60));
        Assert.Null(await conn.ScalarAsync<long?>(Claim, new[] { "voice" }, new[] { w.WorkflowId }, "w1", 60));
        Assert.Equal(voice, await conn.ScalarAsync<long>(Claim, new[] { "voice", "web" }, new[] { w.OtherWorkflowId }, "w2", 60));

        var claimed = (await conn.RowsAsync(
            "SELECT status, worker_name, lease_expires_at > now() AS leased FROM workflow_trace WHERE id = $1", voice)).Single();
        Assert.Equal("active", claimed["status"]);
        Assert.Equal("w2", claimed["worker_name"]);
        Assert.Equal(true, claimed["leased"]);
        Assert.Equal(["workflow_enqueued", "workflow_claimed"], (await conn.RowsAsync(
            "SELECT event_type FROM workflow_events WHERE trace_id = $1 ORDER BY id", voice)).Select(r => (string)r["event_type"]!));
    }

    [Fact]
    public async Task Bad_claims_are_refused_before_anything_is_claimed()
    {
        var (conn, w) = await BeginAsTenantAsync();
        await using var _ = conn;
        var run = await EnqueueAsync(conn, w.WorkflowId);
        var web = new[] { "web" };

        Assert.Equal("WF003", (await conn.FailsAsync(Claim, web, DBNull.Value, "w1", 0)).SqlState);
        Assert.Equal("WF003", (await conn.FailsAsync(Claim, web, DBNull.Value, "w1", 3601)).SqlState);
        Assert.Equal("WF003", (await conn.FailsAsync(Claim, Array.Empty<string>(), DBNull.Value, "w1", 60)).SqlState);
        Assert.Equal("WF003", (await conn.FailsAsync(Claim, web, DBNull.Value, " ", 60)).SqlState);
        Assert.Equal("pending", await conn.ScalarAsync<string>("SELECT status FROM workflow_trace WHERE id = $1", run));
    }

    [Fact]
    public async Task The_state_machine_refuses_a_transition_it_does_not_list_whoever_writes_the_row()
    {
        var (conn, w) = await BeginAsTenantAsync();
        await using var _ = conn;
        var run = await w.StartRunAsync(conn);
        await conn.ExecAsync("SELECT complete_workflow_execution($1, 'completed', NULL)", run);

        var refused = await conn.FailsAsync("UPDATE workflow_trace SET status = 'active', end_time = NULL WHERE id = $1", run);
        Assert.Equal("WF002", refused.SqlState);
        Assert.Contains("cannot go from completed to active", refused.MessageText);
        Assert.Equal("WF002", (await conn.FailsAsync("UPDATE workflow_trace SET status = 'pending', end_time = NULL WHERE id = $1",
            await w.StartRunAsync(conn))).SqlState);
    }

    [Fact]
    public async Task A_claim_reads_only_the_heads_of_the_queues_it_asks_for_not_a_backlog_of_others()
    {
        var (conn, w) = await BeginAsTenantAsync();
        await using var _ = conn;
        await conn.ExecAsync("RESET ROLE");
        // 20,000 older, more urgent web runs of the other workflow and 20,000 voice runs of this one
        await conn.ExecAsync(
            "INSERT INTO workflow_trace (org_id, workflow_id, channel, status, start_time, priority) " +
            "SELECT $1, CASE WHEN g % 2 = 0 THEN $2 ELSE $3 END, CASE WHEN g % 2 = 0 THEN 'web' ELSE 'voice' END::workflow_channel, " +
            "'pending', now() - interval '1 day' - g * interval '1 second', 5 FROM generate_series(1, 40000) g",
            w.OrgId, w.OtherWorkflowId, w.WorkflowId);
        await conn.ExecAsync("ANALYZE workflow_trace");
        await conn.BecomeTenantAsync(w.OrgId, w.UserId);
        var mine = await EnqueueAsync(conn, w.WorkflowId);

        // rows the transaction has fetched through indexes of workflow_trace so far
        async Task<long> FetchedAsync() => await conn.ScalarAsync<long>(
            "SELECT coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables WHERE relid = 'workflow_trace'::regclass");
        async Task<(long? Claimed, long Fetched)> ClaimAsync(string[] channels, Guid[]? workflows)
        {
            var before = await FetchedAsync();
            var claimed = await conn.ScalarAsync<long?>(Claim, channels, (object?)workflows ?? DBNull.Value, "w", 60);
            return (claimed, await FetchedAsync() - before);
        }

        var (claimed, fetched) = await ClaimAsync(["web"], [w.WorkflowId]);
        Assert.Equal(mine, claimed);
        Assert.InRange(fetched, 1, 10);
        (claimed, fetched) = await ClaimAsync(["efax"], [w.WorkflowId, w.OtherWorkflowId]);
        Assert.Null(claimed);
        Assert.InRange(fetched, 0, 10);
        (claimed, fetched) = await ClaimAsync(["web", "efax"], null);
        Assert.Equal("web", await conn.ScalarAsync<string>("SELECT channel::text FROM workflow_trace WHERE id = $1", claimed!.Value));
        Assert.InRange(fetched, 1, 10);
        (claimed, fetched) = await ClaimAsync(["voice"], [w.OtherWorkflowId]);
        Assert.Null(claimed);
        Assert.InRange(fetched, 0, 10);
    }

    [Fact]
    public async Task The_claims_statements_read_the_queue_indexes()
    {
        var (conn, w) = await BeginAsTenantAsync();
        await using var _ = conn;
        await conn.ExecAsync("RESET ROLE");
        await conn.ExecAsync(
            "INSERT INTO workflow_trace (org_id, workflow_id, channel, status, start_time, end_time, priority) " +
            "SELECT $1, CASE WHEN g % 10 = 0 THEN $2 ELSE $3 END, (ARRAY['web','voice','efax'])[1 + g % 3]::workflow_channel, " +
            "CASE WHEN g % 4 = 0 THEN 'pending' ELSE 'completed' END, now() - g * interval '1 second', " +
            "CASE WHEN g % 4 = 0 THEN NULL ELSE now() END, g % 5 FROM generate_series(1, 20000) g",
            w.OrgId, w.WorkflowId, w.OtherWorkflowId);
        await conn.ExecAsync("ANALYZE workflow_trace");
        await conn.BecomeTenantAsync(w.OrgId, w.UserId);

        async Task<string> PlanAsync(string filter) => string.Join("\n", (await conn.RowsAsync(
            "EXPLAIN SELECT id FROM workflow_trace t WHERE t.org_id = app_current_org_id() AND t.status = 'pending' " +
            $"AND t.channel = 'web' {filter} AND (t.not_before IS NULL OR t.not_before <= now()) " +
            "ORDER BY t.priority DESC, t.start_time, t.id LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED", w.WorkflowId))
            .Select(r => (string)r["QUERY PLAN"]!));
        var byChannel = await PlanAsync("AND $1::uuid IS NOT NULL");
        Assert.True(byChannel.Contains("ix_workflow_trace__queue ", StringComparison.Ordinal), byChannel);
        Assert.DoesNotContain("Sort", byChannel);
        var byWorkflow = await PlanAsync("AND t.workflow_id = $1");
        Assert.True(byWorkflow.Contains("ix_workflow_trace__queue_workflow", StringComparison.Ordinal), byWorkflow);
        Assert.DoesNotContain("Sort", byWorkflow);
        Assert.DoesNotContain("Seq Scan", byChannel + byWorkflow);
    }

    [Fact]
    public async Task Thirty_two_concurrent_claimers_over_ten_thousand_runs_claim_each_exactly_once()
    {
        const int runs = 10_000;
        const int claimers = 32;
        TenantWorld world, other;
        await using (var owner = await db.DataSource.OpenConnectionAsync())
        {
            world = await TenantWorld.CreateAsync(owner, "Claimers");
            other = await TenantWorld.CreateAsync(owner, "Bystander");
            await owner.ExecAsync(
                "INSERT INTO workflow_trace (org_id, workflow_id, channel, status, start_time, priority) " +
                "SELECT $1, CASE WHEN g % 2 = 0 THEN $2 ELSE $3 END, 'web', 'pending', now() - g * interval '1 millisecond', g % 3 " +
                "FROM generate_series(1, $4) g", world.OrgId, world.WorkflowId, world.OtherWorkflowId, runs);
            await owner.ExecAsync(
                "INSERT INTO workflow_trace (org_id, workflow_id, channel, status) " +
                "SELECT $1, $2, 'web', 'pending' FROM generate_series(1, 50)",
                other.OrgId, other.WorkflowId);
        }

        var claimed = new ConcurrentBag<long>();
        // one connection per claimer: the fixture's pool is smaller than the crowd
        await using var crowd = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(db.OwnerConnectionString) { MaxPoolSize = claimers + 2 }.ConnectionString);
        await Task.WhenAll(Enumerable.Range(0, claimers).Select(i => Task.Run(async () =>
        {
            await using var conn = await crowd.OpenConnectionAsync();
            while (true)
            {
                await using var tx = await conn.BeginTransactionAsync();
                await conn.BecomeTenantAsync(world.OrgId, world.UserId);
                var id = await conn.ScalarAsync<long?>(Claim, new[] { "web" }, DBNull.Value, $"worker-{i}", 300);
                await tx.CommitAsync();
                if (id is null)
                    return;
                claimed.Add(id.Value);
            }
        })));

        Assert.Equal(runs, claimed.Count);
        Assert.Equal(runs, claimed.Distinct().Count());
        await using var check = await db.DataSource.OpenConnectionAsync();
        var states = await check.RowsAsync(
            "SELECT org_id, status, count(*) AS n FROM workflow_trace " +
            "WHERE org_id IN ($1, $2) GROUP BY org_id, status ORDER BY org_id = $1 DESC", world.OrgId, other.OrgId);
        Assert.Equal(2, states.Count);
        Assert.Equal((world.OrgId, "active", (long)runs),
            ((Guid)states[0]["org_id"]!, (string)states[0]["status"]!, (long)states[0]["n"]!));
        Assert.Equal((other.OrgId, "pending", 50L), ((Guid)states[1]["org_id"]!, (string)states[1]["status"]!, (long)states[1]["n"]!));
        Assert.Equal((long)runs, await check.ScalarAsync<long>(
            "SELECT count(*) FROM workflow_events e JOIN workflow_trace t ON t.id = e.trace_id " +
            "WHERE t.org_id = $1 AND e.event_type = 'workflow_claimed'", world.OrgId));
    }
}
