using Npgsql;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

/// <summary>
/// The statistics rollups and their job (030_stats_rollups.sql, daily rows and array histograms 045, changes added 053):
/// writers record their changes without waiting for each other, the job's passes make the rollups equal to the raw rows
/// under concurrent writers, retention keeps them (cells at or before the horizon are not recomputed), rebuild_stats_rollups
/// writes them again, RLS confines them, and a histogram's percentiles are within 2% of the exact ones. Each test uses an
/// organisation of its own (the job's passes take every organisation's changes, which changes nothing in another's).
/// </summary>
public sealed class StatsRollupTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    /// <summary>Rollup rows that differ from the raw rows of the organisation (a row left counting nothing is one), as text.</summary>
    private const string TraceMismatches = """
        WITH raw AS (
          SELECT org_id, workflow_id, channel, status, date_trunc('hour', start_time, 'UTC') AS hour,
                 count(*) AS n, count(duration_ms) AS timed, coalesce(sum(duration_ms), 0) AS total,
                 min(duration_ms) AS lo, max(duration_ms) AS hi
            FROM workflow_trace WHERE org_id = $1 GROUP BY 1, 2, 3, 4, 5),
        rollup AS (SELECT * FROM trace_stats_hourly WHERE org_id = $1)
        SELECT coalesce(raw.status, rollup.status) || ' ' || coalesce(raw.n, -1) || '/' || coalesce(rollup.runs, -1)
          FROM raw FULL JOIN rollup
            ON (raw.org_id, raw.workflow_id, raw.channel, raw.status, raw.hour)
             = (rollup.org_id, rollup.workflow_id, rollup.channel, rollup.status, rollup.start_time)
         WHERE (raw.n, raw.timed, raw.total, raw.lo, raw.hi)
               IS DISTINCT FROM (rollup.runs, rollup.timed, rollup.duration_sum, rollup.duration_min, rollup.duration_max)
        """;

    private const string StepMismatches = """
        WITH raw AS (
          SELECT s.org_id, t.workflow_id, t.channel, s.node_id, s.status,
                 date_trunc('hour', coalesce(s.start_time, s.created_at), 'UTC') AS hour,
                 count(*) AS n, count(s.duration_ms) AS timed, coalesce(sum(s.duration_ms), 0) AS total,
                 min(s.duration_ms) AS lo, max(s.duration_ms) AS hi
            FROM workflow_steps s JOIN workflow_trace t ON t.id = s.trace_id
           WHERE s.org_id = $1 GROUP BY 1, 2, 3, 4, 5, 6),
        rollup AS (SELECT * FROM step_stats_hourly WHERE org_id = $1)
        SELECT coalesce(raw.status, rollup.status) || ' ' || coalesce(raw.n, -1) || '/' || coalesce(rollup.steps, -1)
          FROM raw FULL JOIN rollup
            ON (raw.org_id, raw.workflow_id, raw.channel, raw.node_id, raw.status, raw.hour)
             = (rollup.org_id, rollup.workflow_id, rollup.channel, rollup.node_id, rollup.status, rollup.start_time)
         WHERE (raw.n, raw.timed, raw.total, raw.lo, raw.hi)
               IS DISTINCT FROM (rollup.steps, rollup.timed, rollup.duration_sum, rollup.duration_min, rollup.duration_max)
        """;

    /// <summary>Histogram buckets per step key, raw against rollup.</summary>
    private const string StepHistogramMismatches = """
        WITH raw AS (
          SELECT t.workflow_id, t.channel, s.node_id, s.status,
                 date_trunc('hour', coalesce(s.start_time, s.created_at), 'UTC') AS hour,
                 stats_duration_bucket(s.duration_ms) AS bucket, count(*) AS n
            FROM workflow_steps s JOIN workflow_trace t ON t.id = s.trace_id
           WHERE s.org_id = $1 AND s.duration_ms IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6),
        rollup AS (
          SELECT r.workflow_id, r.channel, r.node_id, r.status, r.start_time AS hour, h.bucket, h.n
            FROM step_stats_hourly r, unnest(r.histogram_buckets, r.histogram_counts) h (bucket, n) WHERE r.org_id = $1)
        SELECT count(*) FROM raw FULL JOIN rollup USING (workflow_id, channel, node_id, status, hour, bucket)
         WHERE raw.n IS DISTINCT FROM rollup.n
        """;

    /// <summary>
    /// Daily rows (045) that differ from the hourly rows of their UTC day, runs and steps, histograms included (the hourly
    /// rows equal the raw rows, checked above; history kept by retention lives in both).
    /// </summary>
    private const string DailyMismatches = """
        WITH hours AS (
          SELECT workflow_id, channel, -1 AS node_id, status::text AS status, date_trunc('day', start_time, 'UTC') AS day,
                 runs AS n, timed, duration_sum, duration_min, duration_max, histogram_buckets, histogram_counts
            FROM trace_stats_hourly WHERE org_id = $1
          UNION ALL
          SELECT workflow_id, channel, node_id, status::text, date_trunc('day', start_time, 'UTC'), steps, timed, duration_sum,
                 duration_min, duration_max, histogram_buckets, histogram_counts
            FROM step_stats_hourly WHERE org_id = $1),
        hour_buckets AS (
          SELECT workflow_id, channel, node_id, status, day, u.b, sum(u.c) AS c
            FROM hours, unnest(histogram_buckets, histogram_counts) u (b, c) GROUP BY 1, 2, 3, 4, 5, 6),
        hourly AS (
          SELECT g.*, coalesce(x.h, '') AS h
            FROM (SELECT workflow_id, channel, node_id, status, day, sum(n) AS n, sum(timed) AS timed, sum(duration_sum) AS total,
                         min(duration_min) AS lo, max(duration_max) AS hi
                    FROM hours GROUP BY 1, 2, 3, 4, 5) g
            LEFT JOIN (SELECT workflow_id, channel, node_id, status, day, string_agg(b || ':' || c, ',' ORDER BY b) AS h
                         FROM hour_buckets GROUP BY 1, 2, 3, 4, 5) x USING (workflow_id, channel, node_id, status, day)),
        days AS (
          SELECT workflow_id, channel, -1 AS node_id, status::text AS status, start_time AS day, runs AS n, timed,
                 duration_sum AS total, duration_min AS lo, duration_max AS hi, histogram_buckets, histogram_counts
            FROM trace_stats_daily WHERE org_id = $1
          UNION ALL
          SELECT workflow_id, channel, node_id, status::text, start_time, steps, timed, duration_sum, duration_min, duration_max,
                 histogram_buckets, histogram_counts
            FROM step_stats_daily WHERE org_id = $1),
        daily AS (
          SELECT d.workflow_id, d.channel, d.node_id, d.status, d.day, d.n, d.timed, d.total, d.lo, d.hi,
                 coalesce((SELECT string_agg(b || ':' || c, ',' ORDER BY b) FROM unnest(d.histogram_buckets, d.histogram_counts) u (b, c)),
                          '') AS h
            FROM days d)
        SELECT 'day ' || coalesce(hourly.status, daily.status) || ' ' || coalesce(hourly.n, -1) || '/' || coalesce(daily.n, -1)
          FROM hourly FULL JOIN daily USING (workflow_id, channel, node_id, status, day)
         WHERE (hourly.n, hourly.timed, hourly.total, hourly.lo, hourly.hi, hourly.h)
               IS DISTINCT FROM (daily.n, daily.timed, daily.total, daily.lo, daily.hi, daily.h)
        """;

    /// <summary>
    /// Folded rows (054) that differ from the rows per status of their period (hour, block of six hours, UTC day, week) folded
    /// over status and the dimensions their set does not keep, counts per status and histograms included; and rows per
    /// status no folded row holds.
    /// </summary>
    private const string FoldedMismatches = """
        WITH source AS (
          SELECT 'trace' AS subject, 1 AS hours, start_time, workflow_id, channel::text AS channel, NULL::integer AS node_id,
                 status::text AS status, runs AS n, timed, duration_sum, duration_min, duration_max, histogram_buckets, histogram_counts
            FROM trace_stats_hourly WHERE org_id = $1
          UNION ALL
          SELECT 'trace', 24, start_time, workflow_id, channel::text, NULL, status::text, runs, timed, duration_sum, duration_min,
                 duration_max, histogram_buckets, histogram_counts
            FROM trace_stats_daily WHERE org_id = $1
          UNION ALL
          SELECT 'step', 1, start_time, workflow_id, channel::text, node_id, status::text, steps, timed, duration_sum, duration_min,
                 duration_max, histogram_buckets, histogram_counts
            FROM step_stats_hourly WHERE org_id = $1
          UNION ALL
          SELECT 'step', 24, start_time, workflow_id, channel::text, node_id, status::text, steps, timed, duration_sum, duration_min,
                 duration_max, histogram_buckets, histogram_counts
            FROM step_stats_daily WHERE org_id = $1
          UNION ALL
          SELECT 'trace', 6, date_bin('6 hours', start_time, '2000-01-01 00:00+00'), workflow_id, channel::text, NULL, status::text,
                 runs, timed, duration_sum, duration_min, duration_max, histogram_buckets, histogram_counts
            FROM trace_stats_hourly WHERE org_id = $1
          UNION ALL
          SELECT 'step', 6, date_bin('6 hours', start_time, '2000-01-01 00:00+00'), workflow_id, channel::text, node_id, status::text,
                 steps, timed, duration_sum, duration_min, duration_max, histogram_buckets, histogram_counts
            FROM step_stats_hourly WHERE org_id = $1
          UNION ALL
          SELECT 'trace', 168, date_trunc('week', start_time, 'UTC'), workflow_id, channel::text, NULL, status::text, runs, timed,
                 duration_sum, duration_min, duration_max, histogram_buckets, histogram_counts
            FROM trace_stats_daily WHERE org_id = $1
          UNION ALL
          SELECT 'step', 168, date_trunc('week', start_time, 'UTC'), workflow_id, channel::text, node_id, status::text, steps, timed,
                 duration_sum, duration_min, duration_max, histogram_buckets, histogram_counts
            FROM step_stats_daily WHERE org_id = $1),
        exploded AS (
          SELECT concat_ws('|', s.subject, s.hours, s.start_time, k.kept, CASE WHEN k.kept & 1 = 1 THEN s.workflow_id END,
                           CASE WHEN k.kept & 2 = 2 THEN s.channel END, CASE WHEN k.kept & 4 = 4 THEN s.node_id END) AS key, s.*
            FROM source s
            JOIN (VALUES ('trace', 0), ('trace', 1), ('trace', 2), ('trace', 3),
                         ('step', 0), ('step', 1), ('step', 2), ('step', 3), ('step', 5)) k (subject, kept) USING (subject)),
        by_status AS (SELECT key, status, sum(n) AS n FROM exploded GROUP BY 1, 2),
        buckets AS (SELECT key, u.b, sum(u.m) AS m FROM exploded, unnest(histogram_buckets, histogram_counts) u (b, m) GROUP BY 1, 2),
        expected AS (
          SELECT e.key, sum(e.n) AS n, sum(e.timed) AS timed, sum(e.duration_sum) AS total, min(e.duration_min) AS lo,
                 max(e.duration_max) AS hi,
                 (SELECT string_agg(b.status || ':' || b.n, ',' ORDER BY b.status) FROM by_status b WHERE b.key = e.key) AS statuses,
                 coalesce((SELECT string_agg(b.b || ':' || b.m, ',' ORDER BY b.b) FROM buckets b WHERE b.key = e.key), '') AS h
            FROM exploded e GROUP BY e.key),
        folded AS (
          SELECT concat_ws('|', 'trace', hours, start_time, kept, workflow_id, channel::text) AS key, runs AS n, timed,
                 duration_sum AS total, duration_min AS lo, duration_max AS hi, statuses, status_counts, histogram_buckets,
                 histogram_counts
            FROM trace_stats_folded WHERE org_id = $1
          UNION ALL
          SELECT concat_ws('|', 'step', hours, start_time, kept, workflow_id, channel::text, node_id), steps, timed, duration_sum,
                 duration_min, duration_max, statuses, status_counts, histogram_buckets, histogram_counts
            FROM step_stats_folded WHERE org_id = $1),
        actual AS (
          SELECT f.key, f.n, f.timed, f.total, f.lo, f.hi,
                 (SELECT string_agg(u.s || ':' || u.n, ',' ORDER BY u.s) FROM unnest(f.statuses, f.status_counts) u (s, n)) AS statuses,
                 coalesce((SELECT string_agg(u.b || ':' || u.m, ',' ORDER BY u.b)
                             FROM unnest(f.histogram_buckets, f.histogram_counts) u (b, m)), '') AS h
            FROM folded f)
        SELECT 'folded ' || coalesce(expected.key, actual.key) || ' ' || coalesce(expected.n, -1) || '/' || coalesce(actual.n, -1)
          FROM expected FULL JOIN actual USING (key)
         WHERE (expected.n, expected.timed, expected.total, expected.lo, expected.hi, expected.statuses, expected.h)
               IS DISTINCT FROM (actual.n, actual.timed, actual.total, actual.lo, actual.hi, actual.statuses, actual.h)
        """;

    /// <summary>Runs the job's passes first, then compares.</summary>
    private static async Task<List<string>> MismatchesAsync(NpgsqlConnection conn, Guid orgId)
    {
        await conn.RefreshStatsRollupsAsync();
        var found = new List<string>();
        foreach (var sql in new[] { TraceMismatches, StepMismatches, DailyMismatches, FoldedMismatches })
            found.AddRange((await conn.RowsAsync(sql, orgId)).Select(r => (string)r.Values.Single()!));
        var buckets = await conn.ScalarAsync<long>(StepHistogramMismatches, orgId);
        if (buckets > 0)
            found.Add($"{buckets} histogram buckets differ");
        return found;
    }

    /// <summary>A transaction the test rolls back; the job's passes inside it count its own writes.</summary>
    private static Task BeginAsync(NpgsqlConnection conn) => conn.ExecAsync("BEGIN");

    private async Task<TenantWorld> CommittedWorldAsync(string label)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        return await TenantWorld.CreateAsync(conn, label);
    }

    [Fact]
    public async Task Rollups_equal_the_raw_rows_after_concurrent_writers_with_retries_and_cancelled_runs()
    {
        var world = await CommittedWorldAsync("Rollup writers");
        string[] channels = ["web", "voice", "efax"];
        string[] runEnds = ["completed", "failed", "timeout", "cancelled"];

        async Task WriterAsync(int writer)
        {
            var random = new Random(writer);
            await using var conn = await db.DataSource.OpenConnectionAsync();
            for (var run = 0; run < 12; run++)
            {
                var traceId = await world.StartRunAsync(conn, channels[random.Next(channels.Length)]);
                var steps = random.Next(1, 4);
                var open = false;
                for (var step = 1; step <= steps; step++)
                {
                    var stepId = await world.StartStepAsync(conn, traceId, step, random.Next(3));
                    if (random.Next(4) == 0)
                    {
                        await TenantWorld.CompleteStepAsync(conn, stepId, "failed", "payer portal down");
                        await conn.ExecAsync("SELECT retry_workflow_step($1)", stepId);
                    }
                    if (step == steps && random.Next(3) == 0)
                    {
                        open = true; // the run's end cancels it
                        break;
                    }
                    await TenantWorld.CompleteStepAsync(conn, stepId, random.Next(5) == 0 ? "skipped" : "completed");
                }
                var end = open ? runEnds[1 + random.Next(3)] : runEnds[random.Next(runEnds.Length)];
                if (random.Next(6) > 0)
                    await conn.ExecAsync("SELECT complete_workflow_execution($1, $2::trace_status, NULL)", traceId, end);
            }
        }

        // the job's passes run while the writers write (one at a time, as the lock makes them)
        using var writing = new CancellationTokenSource();
        async Task RefresherAsync()
        {
            await using var conn = await db.DataSource.OpenConnectionAsync();
            while (!writing.IsCancellationRequested)
                await conn.ExecAsync("SELECT refresh_stats_rollups(50, false)");
        }

        var refresher = Task.Run(RefresherAsync);
        await Task.WhenAll(Enumerable.Range(1, 6).Select(WriterAsync));
        await writing.CancelAsync();
        await refresher;

        await using var check = await db.DataSource.OpenConnectionAsync();
        Assert.Empty(await MismatchesAsync(check, world.OrgId));
        Assert.Equal(
            await check.ScalarAsync<long>("SELECT count(*) FROM workflow_steps WHERE org_id = $1", world.OrgId),
            await check.ScalarAsync<decimal>("SELECT sum(steps) FROM step_stats_hourly WHERE org_id = $1", world.OrgId));
        Assert.True(await check.ScalarAsync<long>(
            "SELECT count(*) FROM workflow_steps WHERE org_id = $1 AND retry_count > 0", world.OrgId) > 0, "no step was retried");
    }

    [Fact]
    public async Task A_retried_step_takes_its_duration_out_of_the_rollup_and_min_and_max_follow()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await BeginAsync(conn);
        var world = await TenantWorld.CreateAsync(conn, "Rollup retry");
        var traceId = await world.StartRunAsync(conn);
        var slow = await world.StartStepAsync(conn, traceId, 1);
        var fast = await world.StartStepAsync(conn, traceId, 2);
        await conn.ExecAsync(
            "UPDATE workflow_steps SET status = 'failed', start_time = date_trunc('hour', now()), " +
            "end_time = date_trunc('hour', now()) + interval '9 seconds' WHERE id = $1", slow);
        await conn.ExecAsync(
            "UPDATE workflow_steps SET status = 'failed', start_time = date_trunc('hour', now()), " +
            "end_time = date_trunc('hour', now()) + interval '2 seconds' WHERE id = $1", fast);
        await conn.RefreshStatsRollupsAsync();
        var failed = (await conn.RowsAsync(
            "SELECT steps, duration_min, duration_max FROM step_stats_hourly WHERE org_id = $1 AND status = 'failed'",
            world.OrgId)).Single();
        Assert.Equal((2L, 2000L, 9000L), ((long)failed["steps"]!, (long)failed["duration_min"]!, (long)failed["duration_max"]!));

        await conn.ExecAsync("SELECT retry_workflow_step($1)", slow);
        await conn.RefreshStatsRollupsAsync();

        failed = (await conn.RowsAsync(
            "SELECT steps, duration_min, duration_max, histogram_buckets::text || histogram_counts::text AS h " +
            "FROM step_stats_hourly WHERE org_id = $1 AND status = 'failed'",
            world.OrgId)).Single();
        Assert.Equal((1L, 2000L, 2000L), ((long)failed["steps"]!, (long)failed["duration_min"]!, (long)failed["duration_max"]!));
        Assert.Equal($"{{{await conn.ScalarAsync<int>("SELECT stats_duration_bucket(2000)")}}}{{1}}", failed["h"]);
        Assert.Empty(await MismatchesAsync(conn, world.OrgId));
        await conn.ExecAsync("ROLLBACK");
    }

    [Fact]
    public async Task Retention_removes_raw_rows_and_keeps_their_rollups()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await BeginAsync(conn);
        var world = await TenantWorld.CreateAsync(conn, "Rollup retention");
        var traceId = await world.StartRunAsync(conn, "voice");
        var stepId = await world.StartStepAsync(conn, traceId, 1);
        await TenantWorld.CompleteStepAsync(conn, stepId, "completed");
        await conn.ExecAsync("SELECT complete_workflow_execution($1, 'completed', NULL)", traceId);
        // an old run: moved back 200 days (the rollups follow the move)
        await conn.ExecAsync(
            "UPDATE workflow_trace SET start_time = start_time - interval '200 days', end_time = end_time - interval '200 days' " +
            "WHERE id = $1",
            traceId);
        await conn.ExecAsync(
            "UPDATE workflow_steps SET start_time = start_time - interval '200 days', end_time = end_time - interval '200 days' " +
            "WHERE id = $1",
            stepId);
        Assert.Empty(await MismatchesAsync(conn, world.OrgId));
        var before = await conn.RowsAsync(
            "SELECT start_time, runs, duration_sum FROM trace_stats_hourly WHERE org_id = $1 AND runs > 0 ORDER BY 1", world.OrgId);

        await conn.BecomeTenantAsync(world.OrgId, world.UserId);
        Assert.Equal(1L, await conn.ScalarAsync<long>("SELECT traces_deleted FROM cleanup_old_execution_data('90 days')"));
        Assert.Equal(0L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_trace"));

        var after = await conn.RowsAsync("SELECT start_time, runs, duration_sum FROM trace_stats_hourly WHERE runs > 0 ORDER BY 1");
        Assert.Equal(before.Select(r => string.Join("|", r.Values)), after.Select(r => string.Join("|", r.Values)));
        Assert.Equal(1m, await conn.ScalarAsync<decimal>("SELECT sum(steps) FROM step_stats_hourly WHERE status = 'completed'"));

        // the old cells made dirty again (as a late write into them would): the job leaves history alone
        await conn.ExecAsync("RESET ROLE");
        await conn.ExecAsync("""
            INSERT INTO stats_dirty_cells (org_id, workflow_id, channel, node_id, hour)
            SELECT org_id, workflow_id, channel, NULL, start_time FROM trace_stats_hourly WHERE org_id = $1
            UNION ALL SELECT org_id, workflow_id, channel, node_id, start_time FROM step_stats_hourly WHERE org_id = $1
            """, world.OrgId);
        await conn.RefreshStatsRollupsAsync();
        after = await conn.RowsAsync(
            "SELECT start_time, runs, duration_sum FROM trace_stats_hourly WHERE org_id = $1 AND runs > 0 ORDER BY 1", world.OrgId);
        Assert.Equal(before.Select(r => string.Join("|", r.Values)), after.Select(r => string.Join("|", r.Values)));
        Assert.Equal(1m, await conn.ScalarAsync<decimal>(
            "SELECT sum(steps) FROM step_stats_hourly WHERE org_id = $1 AND status = 'completed'", world.OrgId));
        await conn.ExecAsync("ROLLBACK");
    }

    [Fact]
    public async Task Rebuild_writes_the_same_rollups_again()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await BeginAsync(conn);
        var world = await TenantWorld.CreateAsync(conn, "Rollup rebuild");
        for (var i = 0; i < 5; i++)
        {
            var traceId = await world.StartRunAsync(conn, i % 2 == 0 ? "web" : "efax");
            var stepId = await world.StartStepAsync(conn, traceId, 1, i % 3);
            await TenantWorld.CompleteStepAsync(conn, stepId, i == 3 ? "failed" : "completed");
            await conn.ExecAsync(
                "SELECT complete_workflow_execution($1, $2::trace_status, NULL)", traceId, i == 3 ? "failed" : "completed");
        }
        const string Snapshot = """
            SELECT string_agg(concat_ws('|', workflow_id, channel, status, start_time, runs, timed, duration_sum, duration_min,
                                        duration_max, histogram_buckets, histogram_counts), E'\n'
                                        ORDER BY workflow_id, channel, status, start_time)
              FROM trace_stats_hourly WHERE org_id = $1 AND runs <> 0
            """;
        await conn.RefreshStatsRollupsAsync();
        var maintained = await conn.ScalarAsync<string>(Snapshot, world.OrgId);
        Assert.NotNull(maintained);
        await conn.ExecAsync("UPDATE trace_stats_hourly SET runs = 99 WHERE org_id = $1", world.OrgId);
        await conn.ExecAsync("DELETE FROM step_stats_hourly WHERE org_id = $1", world.OrgId);

        Assert.True(await conn.ScalarAsync<long>("SELECT rebuild_stats_rollups(now() - interval '1 day', now() + interval '1 hour')") > 0);

        Assert.Equal(maintained, await conn.ScalarAsync<string>(Snapshot, world.OrgId));
        Assert.Empty(await MismatchesAsync(conn, world.OrgId));
        await conn.ExecAsync("ROLLBACK");
    }

    [Fact]
    public async Task Cells_at_or_before_the_horizon_take_changes_but_wait_for_a_rebuild_to_be_recomputed()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await BeginAsync(conn);
        var world = await TenantWorld.CreateAsync(conn, "Rollup horizon");
        // as if runs of this workflow ending in the current hour had been deleted
        await conn.ExecAsync(
            "INSERT INTO stats_rollup_horizons (org_id, workflow_id, frozen_through) VALUES ($1, $2, date_trunc('hour', now(), 'UTC'))",
            world.OrgId, world.WorkflowId);
        const string Runs = "SELECT coalesce(sum(runs), 0) FROM trace_stats_hourly WHERE org_id = $1";
        // a change is added (it reads no raw row)
        await world.StartRunAsync(conn);
        await conn.RefreshStatsRollupsAsync();
        Assert.Equal(1m, await conn.ScalarAsync<decimal>(Runs, world.OrgId));
        // a recomputation is not: the hour's raw rows may be gone (here a run the recorder did not see stays out)
        await conn.ExecAsync("SET LOCAL workflowgraph.stats_rollups = off");
        await world.StartRunAsync(conn);
        await conn.ExecAsync("SET LOCAL workflowgraph.stats_rollups = on");
        await conn.ExecAsync(
            "INSERT INTO stats_dirty_cells (org_id, workflow_id, channel, node_id, hour) " +
            "VALUES ($1, $2, 'web', NULL, date_trunc('hour', now(), 'UTC'))", world.OrgId, world.WorkflowId);
        await conn.RefreshStatsRollupsAsync();
        Assert.Equal(1m, await conn.ScalarAsync<decimal>(Runs, world.OrgId));

        await conn.ExecAsync("SELECT rebuild_stats_rollups(now() - interval '1 day', now() + interval '1 hour')");
        Assert.Equal(2m, await conn.ScalarAsync<decimal>(Runs, world.OrgId));
        Assert.True(await conn.ScalarAsync<bool>(
            "SELECT frozen_through < now() - interval '1 day' FROM stats_rollup_horizons WHERE org_id = $1", world.OrgId));

        // the hours rebuilt follow the writes again
        await world.StartRunAsync(conn);
        Assert.Empty(await MismatchesAsync(conn, world.OrgId));
        Assert.Equal(3m, await conn.ScalarAsync<decimal>(Runs, world.OrgId));
        await conn.ExecAsync("ROLLBACK");
    }

    [Fact]
    public async Task Deleting_an_open_run_freezes_its_workflow_up_to_the_hour_of_the_delete_not_for_ever()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await BeginAsync(conn);
        var world = await TenantWorld.CreateAsync(conn, "Rollup open run deleted");
        var traceId = await world.StartRunAsync(conn);
        await world.StartStepAsync(conn, traceId, 1);
        await conn.ExecAsync("DELETE FROM workflow_trace WHERE id = $1", traceId);
        Assert.True(await conn.ScalarAsync<bool>(
            "SELECT frozen_through = date_trunc('hour', now(), 'UTC') FROM stats_rollup_horizons WHERE org_id = $1", world.OrgId));
        await conn.ExecAsync("ROLLBACK");
    }

    [Fact]
    public async Task Maintenance_switched_off_leaves_rollups_alone()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await BeginAsync(conn);
        var world = await TenantWorld.CreateAsync(conn, "Rollup switch");
        await conn.ExecAsync("SET LOCAL workflowgraph.stats_rollups = off");
        await world.StartRunAsync(conn);
        Assert.Equal(0L, await conn.ScalarAsync<long>("SELECT count(*) FROM stats_dirty_cells WHERE org_id = $1", world.OrgId));
        await conn.RefreshStatsRollupsAsync();
        Assert.Equal(0L, await conn.ScalarAsync<long>("SELECT count(*) FROM trace_stats_hourly WHERE org_id = $1", world.OrgId));
        await conn.ExecAsync("SET LOCAL workflowgraph.stats_rollups = on");
        await world.StartRunAsync(conn);
        Assert.Equal(1L, await conn.ScalarAsync<long>("SELECT count(*) FROM stats_dirty_cells WHERE org_id = $1", world.OrgId));
        await conn.RefreshStatsRollupsAsync();
        // a pass adds the recorded change to the hour and does not read the hour's raw rows again: the unrecorded run stays
        // out until a rebuild of its hour
        Assert.Equal(1m, await conn.ScalarAsync<decimal>("SELECT sum(runs) FROM trace_stats_hourly WHERE org_id = $1", world.OrgId));
        await conn.ExecAsync("SELECT rebuild_stats_rollups(now() - interval '1 hour', now() + interval '1 hour')");
        Assert.Equal(2m, await conn.ScalarAsync<decimal>("SELECT sum(runs) FROM trace_stats_hourly WHERE org_id = $1", world.OrgId));
        Assert.Empty(await MismatchesAsync(conn, world.OrgId));
        await conn.ExecAsync("ROLLBACK");
    }

    [Fact]
    public async Task A_recomputed_cell_takes_its_queued_changes_with_it_instead_of_adding_them_again()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await BeginAsync(conn);
        var world = await TenantWorld.CreateAsync(conn, "Rollup recompute and queue");
        await world.StartRunAsync(conn);
        // the run's change is queued; a mark of the same cell, older than any queued row, makes the next pass of one row
        // recompute the cell from the raw rows, which count the run already
        await conn.ExecAsync("""
            INSERT INTO stats_dirty_cells (org_id, workflow_id, channel, node_id, hour, recorded_at)
            SELECT org_id, workflow_id, channel, NULL, date_trunc('hour', start_time, 'UTC'), '2000-01-01'
              FROM workflow_trace WHERE org_id = $1
            """, world.OrgId);
        Assert.Equal(1, await conn.ScalarAsync<int>("SELECT refresh_stats_rollups(1, true)"));
        Assert.Equal(0L, await conn.ScalarAsync<long>("SELECT count(*) FROM stats_dirty_cells WHERE org_id = $1", world.OrgId));
        Assert.Equal(1m, await conn.ScalarAsync<decimal>("SELECT sum(runs) FROM trace_stats_hourly WHERE org_id = $1", world.OrgId));
        Assert.Empty(await MismatchesAsync(conn, world.OrgId));
        await conn.ExecAsync("ROLLBACK");
    }

    [Fact]
    public async Task Passes_take_the_oldest_changes_first_so_no_count_goes_below_zero()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await BeginAsync(conn);
        var world = await TenantWorld.CreateAsync(conn, "Rollup change order");
        var traceId = await world.StartRunAsync(conn);
        for (var step = 1; step <= 3; step++)
            await TenantWorld.CompleteStepAsync(conn, await world.StartStepAsync(conn, traceId, step), "completed");
        await conn.ExecAsync("SELECT complete_workflow_execution($1, 'completed', NULL)", traceId);
        var queued = await conn.ScalarAsync<long>("SELECT count(*) FROM stats_dirty_cells WHERE org_id = $1", world.OrgId);
        Assert.Equal(1 + 3 * 3 + 2, queued); // the run's start; each step's start and completion (-1, +1); the run's end (-1, +1)

        // the additions rewritten, so they lie after the subtractions in the table: only the order of recording keeps a
        // subtraction from being taken before the addition it undoes
        await conn.ExecAsync("UPDATE stats_dirty_cells SET recorded_at = recorded_at WHERE org_id = $1 AND n = 1", world.OrgId);
        // one row a pass: every state in between is one the raw rows had at some moment
        while (await conn.ScalarAsync<long>("SELECT count(*) FROM stats_dirty_cells WHERE org_id = $1", world.OrgId) > 0)
        {
            await conn.ExecAsync("SELECT refresh_stats_rollups(1, true)");
            Assert.Equal(0L, await conn.ScalarAsync<long>(
                "SELECT (SELECT count(*) FROM trace_stats_hourly WHERE org_id = $1 AND runs <= 0) " +
                "+ (SELECT count(*) FROM step_stats_hourly WHERE org_id = $1 AND steps <= 0)", world.OrgId));
        }
        Assert.Empty(await MismatchesAsync(conn, world.OrgId));
        await conn.ExecAsync("ROLLBACK");
    }

    [Fact]
    public async Task A_tenant_reads_only_its_own_rollups_and_cannot_write_them()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await BeginAsync(conn);
        var mine = await TenantWorld.CreateAsync(conn, "Rollup tenant A");
        var theirs = await TenantWorld.CreateAsync(conn, "Rollup tenant B");
        await mine.StartRunAsync(conn);
        await theirs.StartRunAsync(conn, "voice");
        await theirs.StartRunAsync(conn, "voice");
        await conn.RefreshStatsRollupsAsync();

        await conn.BecomeTenantAsync(mine.OrgId, mine.UserId);
        var visible = await conn.RowsAsync("SELECT DISTINCT org_id FROM trace_stats_hourly");
        Assert.Equal([mine.OrgId], visible.Select(r => (Guid)r["org_id"]!));
        Assert.Equal(1m, await conn.ScalarAsync<decimal>("SELECT sum(runs) FROM trace_stats_hourly"));
        var refused = await conn.FailsAsync("UPDATE trace_stats_hourly SET runs = 0");
        Assert.Equal("42501", refused.SqlState);
        Assert.Equal("42501", (await conn.FailsAsync("SELECT count(*) FROM stats_dirty_cells")).SqlState);
        // the tenant's own writes still record their cells (the recorder writes as the owner), and the service role may run
        // the job (it does when no owner connection is configured)
        await mine.StartRunAsync(conn, "efax");
        await conn.RefreshStatsRollupsAsync();
        Assert.Equal(2m, await conn.ScalarAsync<decimal>("SELECT sum(runs) FROM trace_stats_hourly"));

        await conn.BecomeTenantAsync(null);
        Assert.Equal(0L, await conn.ScalarAsync<long>("SELECT count(*) FROM trace_stats_hourly"));
        await conn.ExecAsync("ROLLBACK");
    }

    [Fact]
    public async Task Writers_of_the_same_cells_never_wait_for_each_other()
    {
        var world = await CommittedWorldAsync("Rollup no waits");
        await using var first = await db.DataSource.OpenConnectionAsync();
        await using var second = await db.DataSource.OpenConnectionAsync();
        await first.ExecAsync("BEGIN");
        var firstRun = await world.StartRunAsync(first);
        var firstSteps = new[]
        {
            await world.StartStepAsync(first, firstRun, 1, 0), await world.StartStepAsync(first, firstRun, 2, 1),
        };
        await TenantWorld.CompleteStepAsync(first, firstSteps[0], "completed");

        // the second writer changes the same cells in the other order and commits while the first is still open: any lock
        // it needed from the first would fail it at once
        await second.ExecAsync("BEGIN");
        await second.ExecAsync("SET LOCAL lock_timeout = '1s'");
        var secondRun = await world.StartRunAsync(second);
        var secondSteps = new[]
        {
            await world.StartStepAsync(second, secondRun, 1, 1), await world.StartStepAsync(second, secondRun, 2, 0),
        };
        foreach (var step in secondSteps)
            await TenantWorld.CompleteStepAsync(second, step, "completed");
        await second.ExecAsync("SELECT complete_workflow_execution($1, 'completed', NULL)", secondRun);
        await second.ExecAsync("COMMIT");

        await TenantWorld.CompleteStepAsync(first, firstSteps[1], "failed", "payer portal down");
        await first.ExecAsync("SELECT complete_workflow_execution($1, 'failed', NULL)", firstRun);
        await first.ExecAsync("COMMIT");
        Assert.Empty(await MismatchesAsync(first, world.OrgId));
        Assert.Equal(4m, await first.ScalarAsync<decimal>("SELECT sum(steps) FROM step_stats_hourly WHERE org_id = $1", world.OrgId));
    }

    [Fact]
    public async Task Updates_that_change_no_counted_value_record_no_cell()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await BeginAsync(conn);
        var world = await TenantWorld.CreateAsync(conn, "Rollup heartbeat");
        var traceId = await world.StartRunAsync(conn);
        var stepId = await world.StartStepAsync(conn, traceId, 1);
        await conn.RefreshStatsRollupsAsync();

        await conn.ExecAsync("UPDATE workflow_trace SET lease_expires_at = now() + interval '1 minute' WHERE id = $1", traceId);
        await conn.ExecAsync("UPDATE workflow_steps SET output_data = '{\"partial\": 1}' WHERE id = $1", stepId);
        Assert.Equal(0L, await conn.ScalarAsync<long>("SELECT count(*) FROM stats_dirty_cells WHERE org_id = $1", world.OrgId));

        await TenantWorld.CompleteStepAsync(conn, stepId, "completed");
        // the completion's change: one step less running, one more completed with its duration
        var changes = await conn.RowsAsync(
            "SELECT status, n, duration_ms IS NOT NULL AS timed FROM stats_dirty_cells WHERE org_id = $1 AND node_id = $2 ORDER BY n",
            world.OrgId, world.NodeIds[0]);
        Assert.Equal([("running", -1, false), ("completed", 1, true)],
            changes.Select(r => ((string)r["status"]!, (int)r["n"]!, (bool)r["timed"]!)));
        Assert.Empty(await MismatchesAsync(conn, world.OrgId));
        await conn.ExecAsync("ROLLBACK");
    }

    [Fact]
    public async Task A_pass_says_up_to_when_it_counted_and_one_refresher_works_at_a_time()
    {
        var world = await CommittedWorldAsync("Rollup progress");
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await world.StartRunAsync(conn, "voice");
        var committed = await conn.ScalarAsync<DateTime>("SELECT clock_timestamp()");

        await conn.RefreshStatsRollupsAsync();
        Assert.True(await conn.ScalarAsync<DateTime>("SELECT refreshed_to FROM stats_rollup_progress") > committed);
        Assert.Empty(await MismatchesAsync(conn, world.OrgId));

        // while one caller holds the job's lock, another's pass returns at once without taking anything
        await using var holder = await db.DataSource.OpenConnectionAsync();
        await holder.ExecAsync("BEGIN");
        await holder.ExecAsync("SELECT pg_advisory_xact_lock(hashtext('stats rollup refresh'))");
        await world.StartRunAsync(conn, "voice");
        Assert.Null(await conn.ScalarAsync<int?>("SELECT refresh_stats_rollups(10, false)"));
        Assert.Equal(1L, await conn.ScalarAsync<long>("SELECT count(*) FROM stats_dirty_cells WHERE org_id = $1", world.OrgId));
        await holder.ExecAsync("ROLLBACK");
        Assert.Empty(await MismatchesAsync(conn, world.OrgId));
        Assert.Equal("WF003", (await Assert.ThrowsAsync<PostgresException>(
            () => conn.ExecAsync("SELECT refresh_stats_rollups(0, false)"))).SqlState);
    }

    /// <summary>
    /// The histogram's promise: every percentile of a merged histogram is within 2% of the exact nearest-rank
    /// percentile (percentile_disc), over durations from 0 ms to a day drawn from three very different shapes.
    /// </summary>
    [Fact]
    public async Task Histogram_percentiles_are_within_two_percent_of_the_exact_ones()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var rows = await conn.RowsAsync("""
            WITH samples AS (
              SELECT shape, d FROM (
                SELECT 'uniform' AS shape, floor(random() * 86400000)::bigint AS d FROM generate_series(1, 4000)
                UNION ALL SELECT 'lognormal', floor(exp(7 + 2 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())))::bigint
                  FROM generate_series(1, 4000)
                UNION ALL SELECT 'small', floor(random() * 40)::bigint FROM generate_series(1, 4000)) s),
            parts AS (
              -- 40 partial histograms per shape, merged as a query over many rollup rows would
              SELECT shape, part, array_agg(bucket ORDER BY bucket) AS buckets, array_agg(n ORDER BY bucket) AS counts
                FROM (SELECT shape, part, stats_duration_bucket(d) AS bucket, count(*) AS n
                        FROM (SELECT shape, d, (row_number() OVER ()) % 40 AS part FROM samples) x
                       GROUP BY 1, 2, 3) b
               GROUP BY shape, part),
            merged AS (
              SELECT shape, array_agg(bucket ORDER BY bucket) AS buckets, array_agg(n ORDER BY bucket) AS counts
                FROM (SELECT shape, h.bucket, sum(h.n)::bigint AS n FROM parts, unnest(parts.buckets, parts.counts) h (bucket, n)
                       GROUP BY 1, 2) x
               GROUP BY shape)
            SELECT s.shape, q.p,
                   (SELECT stats_histogram_percentile(m.buckets, m.counts, q.p) FROM merged m WHERE m.shape = s.shape) AS estimate,
                   percentile_disc(q.p) WITHIN GROUP (ORDER BY s.d) AS exact
              FROM samples s CROSS JOIN (VALUES (0.01::float8), (0.5), (0.9), (0.95), (0.99), (1.0)) q (p)
             GROUP BY s.shape, q.p
            """);
        Assert.Equal(18, rows.Count);
        foreach (var row in rows)
        {
            var exact = (long)row["exact"]!;
            var estimate = (double)row["estimate"]!;
            var error = exact == 0 ? Math.Abs(estimate) : Math.Abs(estimate - exact) / exact;
            Assert.True(error <= 0.02 + 1e-9, $"{row["shape"]} p{row["p"]}: {estimate} for {exact} ({error:P2})");
        }
    }
}
