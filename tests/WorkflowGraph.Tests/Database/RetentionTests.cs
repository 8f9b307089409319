using Npgsql;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

/// <summary>
/// Event partitions and retention (010_retention.sql and 049, ensure_workflow_event_partitions in 005). Each test builds its
/// rows and partitions as the owner inside one transaction and rolls back, so partitions created or dropped here
/// never leak into the next test.
/// </summary>
public sealed class RetentionTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private static readonly Guid OrgA = Guid.Parse("a0000000-0000-4000-8000-000000000001");
    private static readonly Guid OrgB = Guid.Parse("b0000000-0000-4000-8000-000000000002");

    // Retention of a year: the cutoff lies far behind every partition the migrations created (last month onwards)
    // and far after 2020, whose partitions this data set creates.
    private const string Retention = "365 days";

    private const string Organisations = """
        INSERT INTO organizations (id, name) VALUES
          ('a0000000-0000-4000-8000-000000000001', 'Org A'), ('b0000000-0000-4000-8000-000000000002', 'Org B');
        INSERT INTO workflows (id, org_id, name) VALUES
          ('a0000000-0000-4000-8000-00000000f001', 'a0000000-0000-4000-8000-000000000001', 'Eligibility Check'),
          ('b0000000-0000-4000-8000-00000000f001', 'b0000000-0000-4000-8000-000000000002', 'Eligibility Check');
        INSERT INTO workflow_nodes (id, org_id, workflow_id, name, node_type) VALUES
          (1, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001', 'fetch', 'action'),
          (2, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001', 'parse', 'action'),
          (3, 'b0000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-00000000f001', 'fetch', 'action');
        """;

    // Runs (A = org A, B = org B); "expired" = finished before now() - 365 days.
    //   11 A completed Jan 2020   expired  2 steps, 1 context, 3 events in p202001 (only A's rows there)
    //   12 A timeout   Feb 2020   expired  1 step,             2 events in p202002
    //   13 A failed    now-400d   expired  1 step,             2 events in the default partition (no month there)
    //                                                          + 1 late event now-5d in a current partition
    //   14 A active    Mar 2020   open     1 running step, 1 context, 1 event in p202003, 1 event now()
    //   15 A pending   Jan 2020   open     nothing else
    //   16 A completed now-10d    recent   1 step, 1 context, 2 events
    //   17 A completed started now-370d, ended now-360d: inside the window; 1 step, 1 event (default, now-360d)
    //   21 B cancelled Feb 2020   expired  1 step, 1 context, 2 events in p202002 (beside A's)
    //   22 B active    now-1d     open     1 running step, 1 event
    private const string DataSet = Organisations + """
        SELECT ensure_workflow_event_partitions('2020-01-01 00:00:00+00', '2020-04-01 00:00:00+00');

        INSERT INTO workflow_trace (id, org_id, workflow_id, channel, status, start_time, end_time) VALUES
          (11, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001',
           'web',   'completed', '2020-01-10 10:00:00+00', '2020-01-10 10:00:05+00'),
          (12, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001',
           'web',   'timeout',   '2020-02-05 10:00:00+00', '2020-02-05 10:00:01+00'),
          (13, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001',
           'voice', 'failed',    now() - interval '400 days', now() - interval '400 days' + interval '2 seconds'),
          (14, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001',
           'web',   'active',    '2020-03-03 10:00:00+00', NULL),
          (15, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001',
           'efax',  'pending',   '2020-01-15 10:00:00+00', NULL),
          (16, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001',
           'web',   'completed', now() - interval '10 days', now() - interval '10 days' + interval '2 seconds'),
          (17, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001',
           'web',   'completed', now() - interval '370 days', now() - interval '360 days'),
          (21, 'b0000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-00000000f001',
           'web',   'cancelled', '2020-02-07 10:00:00+00', '2020-02-07 10:00:03+00'),
          (22, 'b0000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-00000000f001',
           'web',   'active',    now() - interval '1 day', NULL);

        INSERT INTO workflow_steps (id, org_id, trace_id, node_id, step_number, status, start_time, end_time)
        SELECT v.id, t.org_id, v.trace_id, v.node_id, v.step_number, v.status, t.start_time,
               CASE WHEN v.status = 'running' THEN NULL ELSE t.start_time + interval '1 second' END
          FROM (VALUES (101, 11, 1, 1, 'completed'), (102, 11, 2, 2, 'completed'), (103, 12, 1, 1, 'timeout'),
                       (104, 13, 1, 1, 'failed'), (105, 14, 1, 1, 'running'), (106, 16, 1, 1, 'completed'),
                       (107, 17, 1, 1, 'completed'), (201, 21, 3, 1, 'completed'), (202, 22, 3, 1, 'running'))
               v (id, trace_id, node_id, step_number, status)
          JOIN workflow_trace t ON t.id = v.trace_id;

        INSERT INTO workflow_trace_context (org_id, trace_id, key, value)
        SELECT t.org_id, t.id, 'member_id', to_jsonb('M-' || t.id) FROM workflow_trace t WHERE t.id IN (11, 14, 16, 21);

        INSERT INTO workflow_events (org_id, trace_id, step_id, event_type, created_at)
        SELECT t.org_id, v.trace_id, v.step_id, v.event_type, v.created_at
          FROM (VALUES
            (11, NULL::bigint, 'workflow_started',   timestamptz '2020-01-10 10:00:00+00'),
            (11, 101,          'step_completed',     '2020-01-10 10:00:02+00'),
            (11, NULL,         'workflow_completed', '2020-01-10 10:00:05+00'),
            (12, NULL,         'workflow_started',   '2020-02-05 10:00:00+00'),
            (12, 103,          'step_timeout',       '2020-02-05 10:00:01+00'),
            (21, NULL,         'workflow_started',   '2020-02-07 10:00:00+00'),
            (21, 201,          'step_completed',     '2020-02-07 10:00:03+00'),
            (14, NULL,         'workflow_started',   '2020-03-03 10:00:00+00'),
            (14, 105,          'step_started',       now()),
            (13, NULL,         'workflow_started',   now() - interval '400 days'),
            (13, 104,          'step_failed',        now() - interval '400 days' + interval '1 second'),
            (13, NULL,         'workflow_note',      now() - interval '5 days'),
            (16, NULL,         'workflow_started',   now() - interval '10 days'),
            (16, NULL,         'workflow_completed', now() - interval '10 days' + interval '2 seconds'),
            (17, NULL,         'workflow_completed', now() - interval '360 days'),
            (22, NULL,         'workflow_started',   now() - interval '1 day')
          ) v (trace_id, step_id, event_type, created_at)
          JOIN workflow_trace t ON t.id = v.trace_id;
        """;

    private sealed record CleanupResult(long Traces, long Steps, long Context, long Events, string[] Partitions)
    {
        public (long Traces, long Steps, long Context, long Events) Counts => (Traces, Steps, Context, Events);
    }

    private static async Task<CleanupResult> CleanupAsync(NpgsqlConnection conn, string retention = Retention, bool archived = false)
    {
        var row = Assert.Single(archived
            ? await conn.RowsAsync("SELECT * FROM cleanup_old_execution_data($1::interval, p_archived => true)", retention)
            : await conn.RowsAsync("SELECT * FROM cleanup_old_execution_data($1::interval)", retention));
        var partitions = (string[])row["partitions_dropped"]!;
        Array.Sort(partitions, StringComparer.Ordinal);
        return new CleanupResult((long)row["traces_deleted"]!, (long)row["steps_deleted"]!, (long)row["context_deleted"]!,
            (long)row["events_deleted"]!, partitions);
    }

    private static Task<bool> PartitionExistsAsync(NpgsqlConnection conn, string name) =>
        conn.ScalarAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid " +
            "WHERE i.inhparent = 'workflow_events'::regclass AND c.relname = $1)", name);

    private static async Task<long[]> IdsAsync(NpgsqlConnection conn, string sql) =>
        (await conn.RowsAsync(sql)).Select(r => Convert.ToInt64(r.Values.Single())).Order().ToArray();

    [Fact]
    public async Task Ensure_partitions_creates_utc_months_and_moves_rows_out_of_the_default_partition()
    {
        await using var owner = await db.OpenAsOwnerAsync();
        var conn = owner.Connection;
        await conn.ExecAsync(Organisations);
        await conn.ExecAsync("SET LOCAL TimeZone = 'America/Sao_Paulo'");  // months are UTC whatever the session says
        await conn.ExecAsync("""
            INSERT INTO workflow_trace (id, org_id, workflow_id, channel, status, start_time)
            VALUES (1, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001',
                    'web', 'active', '2019-05-01 00:00:00+00');
            INSERT INTO workflow_events (id, org_id, trace_id, event_type, event_data, created_at) VALUES
              (1, 'a0000000-0000-4000-8000-000000000001', 1, 'may.early',       '{"n": 1}', '2019-05-10 12:00:00+00'),
              (2, 'a0000000-0000-4000-8000-000000000001', 1, 'may.last_moment', '{"n": 2}', '2019-05-31 23:59:59.999+00'),
              (3, 'a0000000-0000-4000-8000-000000000001', 1, 'june.first',      '{"n": 3}', '2019-06-01 00:00:00+00'),
              (4, 'a0000000-0000-4000-8000-000000000001', 1, 'june.utc',        '{"n": 4}', '2019-05-31 23:30:00-02'),
              (5, 'a0000000-0000-4000-8000-000000000001', 1, 'august',          '{"n": 5}', '2019-08-15 00:00:00+00');
            """);
        const string whereIsEach = "SELECT id, tableoid::regclass::text AS part FROM workflow_events WHERE trace_id = 1 ORDER BY id";
        Assert.All(await conn.RowsAsync(whereIsEach), r => Assert.Equal("workflow_events_default", r["part"]));
        var before = await conn.RowsAsync(
            "SELECT id, event_type, event_data::text AS data, tx_id::text AS tx, created_at FROM workflow_events ORDER BY id");

        Assert.Equal(2, await conn.ScalarAsync<int>(
            "SELECT ensure_workflow_event_partitions('2019-05-01 00:00:00+00', '2019-07-01 00:00:00+00')"));

        Assert.True(await PartitionExistsAsync(conn, "workflow_events_p201905"));
        Assert.True(await PartitionExistsAsync(conn, "workflow_events_p201906"));
        Assert.False(await PartitionExistsAsync(conn, "workflow_events_p201907"));
        await conn.ExecAsync("SET LOCAL TimeZone = 'UTC'");
        Assert.Equal("FOR VALUES FROM ('2019-05-01 00:00:00+00') TO ('2019-06-01 00:00:00+00')",
            await conn.ScalarAsync<string>(
                "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'workflow_events_p201905'"));

        Assert.Equal(
            [(1L, "workflow_events_p201905"), (2L, "workflow_events_p201905"), (3L, "workflow_events_p201906"),
             (4L, "workflow_events_p201906"), (5L, "workflow_events_default")],
            (await conn.RowsAsync(whereIsEach)).Select(r => ((long)r["id"]!, (string)r["part"]!)).ToArray());
        // moved, not copied: every row once, unchanged (event_data, tx_id and created_at included)
        var after = await conn.RowsAsync(
            "SELECT id, event_type, event_data::text AS data, tx_id::text AS tx, created_at FROM workflow_events ORDER BY id");
        Assert.Equal(before, after);
        Assert.Equal(1L, await conn.ScalarAsync<long>("SELECT count(*) FROM ONLY workflow_events_default WHERE trace_id = 1"));

        // A second call finds both months in place.
        Assert.Equal(0, await conn.ScalarAsync<int>(
            "SELECT ensure_workflow_event_partitions('2019-05-15 00:00:00+00', '2019-06-20 00:00:00+00')"));
        // New rows of those months go straight to their partition.
        await conn.ExecAsync(
            "INSERT INTO workflow_events (org_id, trace_id, event_type, created_at) " +
            "VALUES ($1, 1, 'may.late', '2019-05-20 00:00:00+00')", OrgA);
        Assert.Equal(3L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_events_p201905"));
    }

    [Fact]
    public async Task Ensure_partitions_rejects_a_missing_or_reversed_range()
    {
        await using var owner = await db.OpenAsOwnerAsync();
        var conn = owner.Connection;
        Assert.Equal("WF003", (await conn.FailsAsync("SELECT ensure_workflow_event_partitions(NULL, now())")).SqlState);
        Assert.Equal("WF003",
            (await conn.FailsAsync("SELECT ensure_workflow_event_partitions(now(), now() - interval '2 months')")).SqlState);
    }

    [Fact]
    public async Task Owner_cleanup_drops_expired_partitions_whole_and_deletes_expired_runs_of_every_organisation()
    {
        await using var owner = await db.OpenAsOwnerAsync();
        var conn = owner.Connection;
        await conn.ExecAsync(DataSet);
        Assert.Equal(16L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_events"));

        // the caller archived what goes (the service's `retention run` does, tests/.../Retention/RetentionRunTests)
        var result = await CleanupAsync(conn, archived: true);

        // traces 11, 12, 13, 21; steps 101, 102, 103, 104, 201; context of 11 and 21.
        // events: p202001 (3) + p202002 (4, A's and B's) + p202003 (1, of the open run 14) dropped whole = 8,
        //         + 2 rows of run 13 in the default partition older than the cutoff = 10,
        //         + run 13's late event in a current partition, deleted with its run = 11.
        Assert.Equal((4L, 5L, 2L, 11L), result.Counts);
        Assert.Equal(["workflow_events_p202001", "workflow_events_p202002", "workflow_events_p202003"], result.Partitions);

        foreach (var name in result.Partitions)
            Assert.Null(await conn.ScalarAsync<string?>("SELECT to_regclass($1)::text", name));
        // the partitions the migrations keep for the current months stay
        Assert.True(await PartitionExistsAsync(conn, await CurrentMonthPartitionAsync(conn)));

        Assert.Equal(new long[] { 14L, 15, 16, 17, 22 }, await IdsAsync(conn, "SELECT id FROM workflow_trace"));
        Assert.Equal(new long[] { 105L, 106, 107, 202 }, await IdsAsync(conn, "SELECT id FROM workflow_steps"));
        Assert.Equal(new long[] { 14L, 16 }, await IdsAsync(conn, "SELECT trace_id FROM workflow_trace_context"));
        // 14's current event, 16's two, 17's (default partition, inside the window), 22's
        Assert.Equal(new long[] { 14L, 16, 16, 17, 22 }, await IdsAsync(conn, "SELECT trace_id FROM workflow_events"));

        // a second pass finds nothing left to do, and needs no archive for that
        var again = await CleanupAsync(conn);
        Assert.Equal((0L, 0L, 0L, 0L), again.Counts);
        Assert.Empty(again.Partitions);
    }

    [Fact]
    public async Task Owner_cleanup_refuses_to_drop_rows_it_was_not_told_were_archived_and_changes_nothing()
    {
        await using var owner = await db.OpenAsOwnerAsync();
        var conn = owner.Connection;
        await conn.ExecAsync(DataSet);

        var refused = await conn.FailsAsync("SELECT * FROM cleanup_old_execution_data($1::interval)", Retention);
        Assert.Equal("WF005", refused.SqlState);
        Assert.Contains("workflow_events_p202001", refused.MessageText, StringComparison.Ordinal);
        Assert.Contains("retention run", refused.Hint, StringComparison.Ordinal);
        Assert.Equal(9L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_trace"));
        Assert.Equal(16L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_events"));
        Assert.True(await PartitionExistsAsync(conn, "workflow_events_p202001"));

        // the expired monthly partitions emptied: the default partition's expired rows (run 13's) are refused the same way
        await conn.ExecAsync("DELETE FROM workflow_events WHERE created_at < '2021-01-01'");
        refused = await conn.FailsAsync("SELECT * FROM cleanup_old_execution_data($1::interval, false)", Retention);
        Assert.Equal("WF005", refused.SqlState);
        Assert.Contains("workflow_events_default", refused.MessageText, StringComparison.Ordinal);
        Assert.True(await PartitionExistsAsync(conn, "workflow_events_p202001"));
        Assert.Equal(9L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_trace"));

        // with nothing expired left in them, the partitions go without the flag
        await conn.ExecAsync("DELETE FROM workflow_events_default WHERE created_at < now() - $1::interval", Retention);
        var result = await CleanupAsync(conn);
        Assert.Equal(["workflow_events_p202001", "workflow_events_p202002", "workflow_events_p202003"], result.Partitions);
        Assert.Equal(4L, result.Traces);
        Assert.Equal("WF003", (await conn.FailsAsync("SELECT * FROM cleanup_old_execution_data($1::interval, NULL)", Retention)).SqlState);
    }

    [Fact]
    public async Task Tenant_cleanup_deletes_only_its_own_runs_and_drops_only_partitions_it_left_empty()
    {
        await using var session = await db.OpenAsOwnerAsync();
        var conn = session.Connection;
        await conn.ExecAsync(DataSet);

        await session.BecomeTenantAsync(OrgA, null);
        var a = await CleanupAsync(conn);

        // A's traces 11, 12, 13; steps 101-104; context of 11; events 3 (11) + 2 (12) + 3 (13) = 8.
        // p202001 held only run 11's rows: empty now, dropped. p202002 still holds B's rows and p202003 the open
        // run 14's event: both stay.
        Assert.Equal((3L, 4L, 1L, 8L), a.Counts);
        Assert.Equal(["workflow_events_p202001"], a.Partitions);

        await session.BecomeOwnerAsync();
        Assert.False(await PartitionExistsAsync(conn, "workflow_events_p202001"));
        Assert.True(await PartitionExistsAsync(conn, "workflow_events_p202002"));
        Assert.True(await PartitionExistsAsync(conn, "workflow_events_p202003"));
        Assert.Equal(new long[] { 14L, 15, 16, 17, 21, 22 }, await IdsAsync(conn, "SELECT id FROM workflow_trace"));
        Assert.Equal(new long[] { 105L, 106, 107, 201, 202 }, await IdsAsync(conn, "SELECT id FROM workflow_steps"));
        Assert.Equal(new long[] { 14L, 16, 21 }, await IdsAsync(conn, "SELECT trace_id FROM workflow_trace_context"));
        Assert.Equal(new long[] { 21L, 21 }, await IdsAsync(conn, "SELECT trace_id FROM workflow_events_p202002"));
        Assert.Equal(new long[] { 14L }, await IdsAsync(conn, "SELECT trace_id FROM workflow_events_p202003"));
        Assert.Equal(8L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_events"));

        // B's own cleanup then empties p202002, which goes; p202003 (A's open run) still stays.
        await session.BecomeTenantAsync(OrgB, null);
        var b = await CleanupAsync(conn);
        Assert.Equal((1L, 1L, 1L, 2L), b.Counts);
        Assert.Equal(["workflow_events_p202002"], b.Partitions);
        await session.BecomeOwnerAsync();
        Assert.False(await PartitionExistsAsync(conn, "workflow_events_p202002"));
        Assert.True(await PartitionExistsAsync(conn, "workflow_events_p202003"));
        Assert.Equal(new long[] { 14L, 15, 16, 17, 22 }, await IdsAsync(conn, "SELECT id FROM workflow_trace"));
    }

    [Fact]
    public async Task Tenant_without_an_organisation_deletes_nothing()
    {
        await using var session = await db.OpenAsOwnerAsync();
        var conn = session.Connection;
        await conn.ExecAsync(DataSet);
        await session.BecomeTenantAsync(null, null);

        var result = await CleanupAsync(conn);

        Assert.Equal((0L, 0L, 0L, 0L), result.Counts);
        Assert.Empty(result.Partitions);
        await session.BecomeOwnerAsync();
        Assert.Equal(9L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_trace"));
        Assert.Equal(16L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_events"));
        Assert.True(await PartitionExistsAsync(conn, "workflow_events_p202001"));
    }

    [Theory]
    [InlineData("23 hours 59 minutes")]
    [InlineData("-30 days")]
    [InlineData(null)]
    public async Task Retention_under_a_day_or_null_is_rejected(string? retention)
    {
        await using var session = await db.OpenAsOwnerAsync();
        var conn = session.Connection;
        Assert.Equal("WF003", (await conn.FailsAsync("SELECT * FROM cleanup_old_execution_data($1::interval)", retention)).SqlState);
        await session.BecomeTenantAsync(OrgA, null);
        Assert.Equal("WF003", (await conn.FailsAsync("SELECT * FROM cleanup_old_execution_data($1::interval)", retention)).SqlState);
    }

    [Fact]
    public async Task Retention_of_exactly_one_day_is_accepted()
    {
        await using var session = await db.OpenAsOwnerAsync();
        var conn = session.Connection;
        var current = await CurrentMonthPartitionAsync(conn);
        var result = await CleanupAsync(conn, "1 day");
        Assert.Equal((0L, 0L, 0L, 0L), result.Counts);
        // Only months that ended at least a day ago may go (last month's, once this month is a day old).
        Assert.All(result.Partitions, p => Assert.True(string.CompareOrdinal(p, current) < 0, $"{p} dropped, current is {current}"));
        Assert.True(await PartitionExistsAsync(conn, current));
    }

    /// <summary>
    /// The service role may drop partitions that retention made obsolete, nothing younger: the function it is granted
    /// must not drop the current or next months' partitions (pre-created, empty) when handed a future cutoff.
    /// </summary>
    [Fact]
    public async Task Service_role_cannot_drop_current_or_future_partitions()
    {
        await using var session = await db.OpenAsOwnerAsync();
        var conn = session.Connection;
        var current = await CurrentMonthPartitionAsync(conn);
        var next = await conn.ScalarAsync<string>(
            "SELECT 'workflow_events_p' || to_char((now() AT TIME ZONE 'UTC') + interval '1 month', 'YYYYMM')");
        Assert.True(await PartitionExistsAsync(conn, current));
        Assert.True(await PartitionExistsAsync(conn, next));

        await session.BecomeTenantAsync(OrgA, null);
        await conn.ExecAsync("SAVEPOINT before_drop");
        try
        {
            await conn.RowsAsync("SELECT * FROM drop_empty_workflow_event_partitions_before(now() + interval '1 year')");
        }
        catch (PostgresException)
        {
            await conn.ExecAsync("ROLLBACK TO SAVEPOINT before_drop");  // refusing is fine too
        }

        await session.BecomeOwnerAsync();
        Assert.True(await PartitionExistsAsync(conn, current), $"the service role dropped {current}, this month's partition");
        Assert.True(await PartitionExistsAsync(conn, next), $"the service role dropped {next}, next month's partition");
    }

    private static Task<string> CurrentMonthPartitionAsync(NpgsqlConnection conn) =>
        conn.ScalarAsync<string>("SELECT 'workflow_events_p' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMM')");

    /// <summary>
    /// A tenant's cleanup must not drop a partition that holds another organisation's rows, also when those rows
    /// commit while the cleanup runs. Its own database: the rows here are committed.
    /// </summary>
    public sealed class ConcurrentWriter(DatabaseFixture db) : IClassFixture<DatabaseFixture>
    {
        [Fact]
        public async Task Tenant_cleanup_keeps_a_partition_another_organisation_wrote_into_meanwhile()
        {
            await using (var setup = await db.OpenAsOwnerAsync())
            {
                await setup.Connection.ExecAsync(Organisations + """
                    SELECT ensure_workflow_event_partitions('2020-02-01 00:00:00+00', '2020-03-01 00:00:00+00');
                    INSERT INTO workflow_trace (id, org_id, workflow_id, channel, status, start_time, end_time) VALUES
                      (11, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001',
                       'web', 'completed', '2020-02-05 10:00:00+00', '2020-02-05 10:00:01+00'),
                      (22, 'b0000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-00000000f001',
                       'web', 'active', now() - interval '1 day', NULL);
                    INSERT INTO workflow_events (org_id, trace_id, event_type, created_at) VALUES
                      ('a0000000-0000-4000-8000-000000000001', 11, 'workflow_completed', '2020-02-05 10:00:01+00');
                    """);
                await setup.CommitAsync();
            }

            // B writes a (back-dated) row into February 2020 and has not committed yet when A's cleanup starts.
            await using var writerB = await db.OpenAsTenantAsync(OrgB);
            await writerB.Connection.ExecAsync(
                "INSERT INTO workflow_events (trace_id, event_type, created_at) VALUES (22, 'late.audit', '2020-02-20 12:00:00+00')");

            await using var cleanerA = await db.OpenAsTenantAsync(OrgA);
            var cleanup = CleanupAsync(cleanerA.Connection);

            // Wait until A's cleanup blocks on B's transaction (or finishes without blocking), then let B commit.
            await using (var observer = await db.DataSource.OpenConnectionAsync())
            {
                var deadline = DateTime.UtcNow.AddSeconds(15);
                while (!cleanup.IsCompleted && DateTime.UtcNow < deadline &&
                       await observer.ScalarAsync<string?>("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1",
                           cleanerA.Connection.ProcessID) != "Lock")
                    await Task.Delay(50);
            }
            await writerB.CommitAsync();
            var result = await cleanup.WaitAsync(TimeSpan.FromSeconds(15));
            await cleanerA.CommitAsync();

            Assert.Equal(1L, result.Traces);
            await using var check = await db.OpenAsOwnerAsync();
            var survived = await check.Connection.ScalarAsync<long>(
                "SELECT count(*) FROM workflow_events WHERE org_id = $1 AND event_type = 'late.audit'", OrgB);
            Assert.True(survived == 1 && await PartitionExistsAsync(check.Connection, "workflow_events_p202002"),
                "org A's cleanup dropped workflow_events_p202002 together with org B's row that committed while it ran " +
                $"(rows of B left: {survived}): the partition is counted before it is locked");
        }
    }
}
