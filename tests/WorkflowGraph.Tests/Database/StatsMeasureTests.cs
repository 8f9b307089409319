using Npgsql;
using WorkflowGraph.Analytics.Stats;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

/// <summary>
/// The service merges statistics cells and computes their measures (<see cref="StatsGroups"/>) with PostgreSQL's
/// arithmetic: a percentile's bucket value, held between min and max and rounded through numeric, and a success rate,
/// equal to what the same expressions give in PostgreSQL — to the last bit of the double — for buckets 0 to 1000 (1000
/// holds durations of ~10^17 ms) and every rate of up to 400 finished rows.
/// </summary>
public sealed class StatsMeasureTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task Percentiles_are_postgresqls_bucket_value_held_and_rounded()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        // each bucket alone, below its min (held up), above its max (held down), and no bucket with only a min
        await using var command = new NpgsqlCommand("""
            SELECT b, lo, hi, round(least(greatest(stats_bucket_value(b), lo), hi)::numeric, 2)::float8
              FROM generate_series(0, 1000) b
             CROSS JOIN LATERAL (VALUES (NULL::bigint, NULL::bigint), (0, 2000000000),
                                        (ceil(stats_bucket_value(b))::bigint + 1, NULL), (NULL, floor(stats_bucket_value(b))::bigint))
                   AS bounds (lo, hi)
            UNION ALL SELECT NULL, 7, NULL, round(least(greatest(stats_bucket_value(NULL), 7::bigint), NULL)::numeric, 2)::float8
            """, conn);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = 0;
        while (await reader.ReadAsync())
        {
            int? bucket = reader.IsDBNull(0) ? null : reader.GetInt32(0);
            long? lo = reader.IsDBNull(1) ? null : reader.GetInt64(1);
            long? hi = reader.IsDBNull(2) ? null : reader.GetInt64(2);
            double? expected = reader.IsDBNull(3) ? null : reader.GetDouble(3);
            var actual = StatsGroups.Percentile(bucket is { } b ? StatsGroups.BucketValue(b) : null, lo, hi);
            Assert.True(expected == actual, $"bucket {bucket}, min {lo}, max {hi}: PostgreSQL {expected:R}, service {actual:R}");
            rows++;
        }
        Assert.Equal(1001 * 4 + 1, rows);
    }

    [Fact]
    public async Task Success_rates_are_postgresqls_rounding()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand("""
            SELECT c, f, round(100.0 * c / nullif(f, 0), 2)::float8
              FROM generate_series(0, 400) f CROSS JOIN LATERAL generate_series(0, f) c
            """, conn);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = 0;
        while (await reader.ReadAsync())
        {
            var (completed, finished) = (reader.GetInt32(0), reader.GetInt32(1));
            double? expected = reader.IsDBNull(2) ? null : reader.GetDouble(2);
            var actual = StatsGroups.SuccessRate(completed, finished);
            Assert.True(expected == actual, $"{completed} of {finished}: PostgreSQL {expected:R}, service {actual:R}");
            rows++;
        }
        Assert.Equal(401 * 402 / 2, rows);
        Assert.Null(StatsGroups.SuccessRate(3, null));
    }

    [Fact]
    public async Task Uuids_sort_as_postgresql_sorts_them()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        // random ones, and ones that differ only in the first or the last group
        await using var command = new NpgsqlCommand("""
            SELECT u FROM (SELECT gen_random_uuid() AS u FROM generate_series(1, 500)
                           UNION ALL SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid FROM generate_series(1, 40) i
                           UNION ALL SELECT (lpad(to_hex(i), 8, '0') || '-0000-4000-8000-000000000000')::uuid
                                       FROM generate_series(1, 40) i) all_ids
             ORDER BY u
            """, conn);
        var expected = new List<Guid>();
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                expected.Add(reader.GetGuid(0));
        var sorted = expected.OrderBy(u => u.GetHashCode()).ToList();
        sorted.Sort(StatsGroups.UuidOrder);
        Assert.Equal(expected, sorted);
    }
}
