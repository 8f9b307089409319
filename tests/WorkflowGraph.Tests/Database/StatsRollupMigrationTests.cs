using Npgsql;
using WorkflowGraph.Database.Migrations;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

/// <summary>
/// 045_stats_rollups_daily.sql on a database that 030 has filled: the hourly histograms are converted bucket for bucket,
/// hourly rows whose raw rows retention deleted keep their history, and the daily rows equal their hours. 050 on a
/// database that 045 has filled: the bucket functions give the same values, inlined, and the rollups stay as they were.
/// </summary>
public sealed class StatsRollupMigrationTests : IAsyncLifetime
{
    private readonly string _name = TestCluster.UniqueDatabaseName();
    private string _connectionString = "";

    public async Task InitializeAsync() => _connectionString = await TestCluster.CreateEmptyDatabaseAsync(_name);

    public Task DisposeAsync() => TestCluster.DropDatabaseAsync(_name);

    /// <summary>Every hourly histogram bucket as "workflow channel status hour bucket count", whatever the storage.</summary>
    private const string BucketsBefore = """
        SELECT string_agg(concat_ws(' ', r.channel, r.status, r.start_time, h.key, h.value), E'\n'
                          ORDER BY r.channel, r.status, r.start_time, h.key::integer)
          FROM trace_stats_hourly r, jsonb_each_text(r.histogram) h
        """;

    private const string BucketsAfter = """
        SELECT string_agg(concat_ws(' ', r.channel, r.status, r.start_time, h.b, h.n), E'\n'
                          ORDER BY r.channel, r.status, r.start_time, h.b)
          FROM trace_stats_hourly r, unnest(r.histogram_buckets, r.histogram_counts) h (b, n)
        """;

    [Fact]
    public async Task Existing_rollups_and_their_history_are_converted_and_rolled_up_by_day()
    {
        var scripts = MigrationScript.Embedded;
        await new MigrationRunner(_connectionString, scripts.Where(s => string.CompareOrdinal(s.Name, "045") < 0)).MigrateAsync();
        await using var conn = new NpgsqlConnection(_connectionString);
        await conn.OpenAsync();
        var world = await TenantWorld.CreateAsync(conn, "Rollup migration");
        await conn.ExecAsync("""
            INSERT INTO workflow_trace (org_id, workflow_id, channel, status, start_time, end_time)
            SELECT $1, $2, (ARRAY['web', 'voice', 'efax'])[1 + i % 3], CASE WHEN i % 7 = 0 THEN 'failed' ELSE 'completed' END,
                   '2026-02-01T00:00:00Z'::timestamptz + i * interval '37 minutes',
                   '2026-02-01T00:00:00Z'::timestamptz + i * interval '37 minutes' + (100 + i * i % 9000) * interval '1 millisecond'
              FROM generate_series(1, 300) i
            """, world.OrgId, world.WorkflowId);
        await conn.RefreshStatsRollupsAsync();
        // history: the first day's runs deleted by retention, their rollups kept
        await conn.ExecAsync("DELETE FROM workflow_trace WHERE org_id = $1 AND start_time < '2026-02-02T00:00:00Z'", world.OrgId);
        await conn.RefreshStatsRollupsAsync();
        var before = await conn.ScalarAsync<string>(BucketsBefore);
        Assert.Contains("2026-02-01", before);

        var result = await new MigrationRunner(_connectionString, scripts).MigrateAsync();

        Assert.Contains("045_stats_rollups_daily.sql", result.Applied);
        Assert.Equal(before, await conn.ScalarAsync<string>(BucketsAfter));
        Assert.Equal(
            await conn.ScalarAsync<string>("""
                SELECT string_agg(concat_ws(' ', channel, status, day, n, total), E'\n' ORDER BY channel, status, day)
                  FROM (SELECT channel, status, date_trunc('day', start_time, 'UTC') AS day, sum(runs) AS n, sum(duration_sum) AS total
                          FROM trace_stats_hourly GROUP BY 1, 2, 3) h
                """),
            await conn.ScalarAsync<string>("""
                SELECT string_agg(concat_ws(' ', channel, status, start_time, runs, duration_sum), E'\n'
                                  ORDER BY channel, status, start_time)
                  FROM trace_stats_daily
                """));
        Assert.Equal(300m, await conn.ScalarAsync<decimal>("SELECT sum(runs) FROM trace_stats_daily"));
    }

    /// <summary>Both bucket functions over durations from 0 to an hour and the buckets they fall in, NULL included.</summary>
    private const string BucketFunctionValues = """
        SELECT string_agg(concat_ws(' ', ms, stats_duration_bucket(ms), stats_bucket_value(stats_duration_bucket(ms))), E'\n' ORDER BY ms)
          FROM (SELECT NULL::bigint AS ms UNION ALL SELECT -5 UNION ALL SELECT 0 UNION ALL SELECT 1
                UNION ALL SELECT (1.37 ^ i)::bigint FROM generate_series(1, 40) i) d
        """;

    private const string Rollups = """
        SELECT (SELECT string_agg(concat_ws(' ', channel, status, start_time, runs, histogram_buckets, histogram_counts), E'\n'
                                  ORDER BY channel, status, start_time) FROM trace_stats_daily)
               || (SELECT string_agg(concat_ws(' ', node_id, status, start_time, steps, histogram_buckets, histogram_counts), E'\n'
                                     ORDER BY node_id, status, start_time) FROM step_stats_hourly)
        """;

    private static async Task<string> PlanAsync(NpgsqlConnection conn, string explain)
    {
        await using var command = new NpgsqlCommand(explain, conn);
        await using var reader = await command.ExecuteReaderAsync();
        var lines = new List<string>();
        while (await reader.ReadAsync())
            lines.Add(reader.GetString(0));
        return string.Join('\n', lines);
    }

    [Fact]
    public async Task The_bucket_functions_are_inlined_with_the_same_values_and_existing_rollups_stay()
    {
        var scripts = MigrationScript.Embedded;
        await new MigrationRunner(_connectionString, scripts.Where(s => string.CompareOrdinal(s.Name, "050") < 0)).MigrateAsync();
        await using var conn = new NpgsqlConnection(_connectionString);
        await conn.OpenAsync();
        var world = await TenantWorld.CreateAsync(conn, "Bucket functions");
        await conn.ExecAsync("""
            WITH runs AS (
              INSERT INTO workflow_trace (org_id, workflow_id, channel, status, start_time, end_time)
              SELECT $1, $2, (ARRAY['web', 'voice', 'efax'])[1 + i % 3], CASE WHEN i % 7 = 0 THEN 'failed' ELSE 'completed' END,
                     '2026-02-01T00:00:00Z'::timestamptz + i * interval '37 minutes',
                     '2026-02-01T00:00:00Z'::timestamptz + i * interval '37 minutes' + (100 + i * i % 9000) * interval '1 millisecond'
                FROM generate_series(1, 200) i
              RETURNING id, org_id, start_time)
            INSERT INTO workflow_steps (org_id, trace_id, node_id, step_number, status, start_time, end_time)
            SELECT org_id, id, $3, 1, 'completed', start_time, start_time + (id % 5000) * interval '1 millisecond' FROM runs
            """, world.OrgId, world.WorkflowId, world.NodeIds[0]);
        await conn.RefreshStatsRollupsAsync();
        var values = await conn.ScalarAsync<string>(BucketFunctionValues);
        var rollups = await conn.ScalarAsync<string>(Rollups);
        const string Inlined =
            "EXPLAIN (VERBOSE, COSTS OFF) SELECT stats_bucket_value(stats_duration_bucket(duration_ms)) FROM workflow_trace";
        Assert.Contains("stats_duration_bucket", await PlanAsync(conn, Inlined));

        var upTo050 = scripts.Where(s => string.CompareOrdinal(s.Name, "051") < 0);
        var result = await new MigrationRunner(_connectionString, upTo050).MigrateAsync();

        Assert.Equal(["050_stats_buckets_inlined.sql"], result.Applied.Where(name => string.CompareOrdinal(name, "050") >= 0));
        Assert.Equal(values, await conn.ScalarAsync<string>(BucketFunctionValues));
        Assert.Equal(rollups, await conn.ScalarAsync<string>(Rollups));
        // the plan holds the expressions themselves: no call left
        var plan = await PlanAsync(conn, Inlined);
        Assert.DoesNotContain("stats_duration_bucket", plan);
        Assert.DoesNotContain("stats_bucket_value", plan);
        Assert.Contains("power", plan);
        // rebuilt with the new functions from the raw rows, the rollups are the same
        await conn.ExecAsync("SELECT rebuild_stats_rollups('2026-02-01T00:00:00Z', '2026-02-10T00:00:00Z')");
        Assert.Equal(rollups, await conn.ScalarAsync<string>(Rollups));
    }
}
