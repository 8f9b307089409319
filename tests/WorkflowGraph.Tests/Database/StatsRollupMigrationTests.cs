using Npgsql;
using WorkflowGraph.Database.Migrations;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

/// <summary>
/// 045_stats_rollups_daily.sql on a database that 030 has filled: the hourly histograms are converted bucket for bucket,
/// hourly rows whose raw rows retention deleted keep their history, and the daily rows equal their hours.
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
}
