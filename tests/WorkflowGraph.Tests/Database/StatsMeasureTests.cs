using Npgsql;
using WorkflowGraph.Analytics.Stats;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

/// <summary>
/// The service merges statistics cells and computes their measures (<see cref="StatsGroups"/>) with PostgreSQL's
/// arithmetic: a percentile's bucket value, held between min and max and rounded through numeric, and a success rate,
/// equal to what the same expressions give in PostgreSQL — to the last bit of the double — for buckets 0 to 1000 (1000
/// holds durations of ~10^17 ms) and every rate of up to 400 finished rows (and 3,000 of up to ~3·10^18).
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
            // and by the bucket (its rounded value made once for all)
            var ofBucket = StatsGroups.Percentile(bucket, lo, hi);
            Assert.True(expected == ofBucket, $"bucket {bucket}, min {lo}, max {hi}: PostgreSQL {expected:R}, by bucket {ofBucket:R}");
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
            UNION ALL
            SELECT c, f, round(100.0 * c / f, 2)::float8
              FROM generate_series(1, 3000) i
             CROSS JOIN LATERAL (SELECT i::bigint * 3074457345618258 / 3 + i * 7919 AS f) big
             CROSS JOIN LATERAL (SELECT floor(f::numeric * (i % 1001) / 1000)::bigint AS c) part
            """, conn);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = 0;
        while (await reader.ReadAsync())
        {
            var (completed, finished) = (reader.GetInt64(0), reader.GetInt64(1));
            double? expected = reader.IsDBNull(2) ? null : reader.GetDouble(2);
            var actual = StatsGroups.SuccessRate(completed, finished);
            Assert.True(expected == actual, $"{completed} of {finished}: PostgreSQL {expected:R}, service {actual:R}");
            rows++;
        }
        Assert.Equal(401 * 402 / 2 + 3000, rows);
        Assert.Null(StatsGroups.SuccessRate(3, null));
    }

    [Fact]
    public void Measures_are_written_as_the_json_writer_writes_their_doubles()
    {
        static string Written(Action<System.Text.Json.Utf8JsonWriter> write)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
                write(writer);
            return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        // percentiles: every bucket's rounded value (texts made once), whole numbers held to a min or max (written as
        // integers below 10^15), and the values around and beyond those bounds
        var random = new Random(1503);
        var values = Enumerable.Range(0, 1200).Select(bucket => StatsGroups.Percentile(bucket, null, null)!.Value)
            .Concat([0, -0.0, 1, 7, 0.5, -3, 1e14, 1e15 - 1, 1e15, 1e15 + 2, 9_007_199_254_740_993, 1e17, 123.45, 1e300])
            .Concat(Enumerable.Range(0, 2000).Select(_ => (double)random.NextInt64(1, 1_000_000_000_000)))
            .Concat(Enumerable.Range(0, 2000).Select(_ => Math.Round(random.NextDouble() * 100_000, 2)));
        foreach (var value in values)
        {
            var expected = Written(writer => writer.WriteNumberValue(value));
            Assert.Equal(expected, Written(writer => StatsProjection.WritePercentile(writer, value)));
        }
        Assert.Equal("null", Written(writer => StatsProjection.WritePercentile(writer, null)));

        // success rates: each hundredth of a percent as the double of its decimal text (numeric::float8)
        for (var hundredths = 0L; hundredths <= 10_000; hundredths++)
        {
            var rate = double.Parse((hundredths / 100m).ToString(System.Globalization.CultureInfo.InvariantCulture),
                System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(rate, hundredths / 100.0);
            Assert.Equal(Written(writer => writer.WriteNumberValue(rate)),
                Written(writer => StatsProjection.WriteSuccessRate(writer, hundredths)));
        }
        Assert.Equal("null", Written(writer => StatsProjection.WriteSuccessRate(writer, null)));
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

    [Fact]
    public async Task Merged_histograms_give_postgresqls_nearest_rank()
    {
        // 300 histograms of rollup rows, merged in the service cell by cell in a shuffled order (so the buckets arrive
        // below, inside and above what is held), against the nearest rank that PostgreSQL finds with window sums over the
        // merged histogram (exact q, as statistics statements computed it before the service merged cells)
        var random = new Random(1403);
        var cases = new List<(Dictionary<int, long> Merged, StatsHistogram Histogram)>();
        for (var h = 0; h < 300; h++)
        {
            var merged = new Dictionary<int, long>();
            var cells = new List<(int Bucket, long Count)>();
            var low = random.Next(0, 900);
            var width = random.Next(1, h % 3 == 0 ? 5 : 200);
            for (var cell = random.Next(1, 40); cell > 0; cell--)
            {
                var bucket = low + random.Next(0, width);
                var count = random.Next(1, h % 5 == 0 ? 3 : 100_000);
                cells.Add((bucket, count));
                merged[bucket] = merged.GetValueOrDefault(bucket) + count;
            }
            var histogram = new StatsHistogram();
            foreach (var (bucket, count) in cells.OrderBy(_ => random.Next()))
                histogram.Add(bucket, count);
            cases.Add((merged, histogram));
        }

        await using var conn = await db.DataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand("""
            SELECT i, q, (SELECT bucket
                            FROM (SELECT bucket, sum(n) OVER (ORDER BY bucket) AS running, sum(n) OVER () AS total
                                    FROM unnest(h.buckets, h.counts) u (bucket, n)) c
                           WHERE running >= greatest(ceil(q * total), 1) ORDER BY bucket LIMIT 1)
              FROM unnest($1::jsonb[]) WITH ORDINALITY j (histogram, i)
             CROSS JOIN LATERAL (SELECT array_agg(k::integer ORDER BY k::integer) AS buckets,
                                        array_agg(v::bigint ORDER BY k::integer) AS counts
                                   FROM jsonb_each_text(j.histogram) e (k, v)) h
             CROSS JOIN unnest('{0.5, 0.9, 0.95, 0.99, 0.001, 1}'::numeric[]) q
            """, conn);
        command.Parameters.Add(new NpgsqlParameter
        {
            Value = cases.Select(c => System.Text.Json.JsonSerializer.Serialize(c.Merged.ToDictionary(e => e.Key.ToString(), e => e.Value)))
                .ToArray(),
            NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Jsonb,
        });
        await using var reader = await command.ExecuteReaderAsync();
        var rows = 0;
        while (await reader.ReadAsync())
        {
            var (index, quantile, expected) = ((int)reader.GetInt64(0) - 1, reader.GetDecimal(1), reader.GetInt32(2));
            Assert.True(expected == cases[index].Histogram.NearestRank(quantile), $"histogram {index}, q {quantile}");
            rows++;
        }
        Assert.Equal(300 * 6, rows);
        Assert.Null(new StatsHistogram().NearestRank(0.5m));

        // a bucket no duration has is refused, not a reason to hold more counts
        var bounded = new StatsHistogram();
        bounded.Add(StatsHistogram.MaxBucket, 1);
        bounded.Add(0, 1);
        Assert.Equal(StatsHistogram.MaxBucket + 1, bounded.Counts.Length);
        Assert.Throws<InvalidDataException>(() => bounded.Add(StatsHistogram.MaxBucket + 1, 1));
        Assert.Throws<InvalidDataException>(() => bounded.Add(-1, 1));
    }
}
