using System.Text.Json;
using GraphQL;
using NpgsqlTypes;
using WorkflowGraph.Analytics.Stats;
using WorkflowGraph.Database;
using WorkflowGraph.Querying;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Selection;

namespace WorkflowGraph.Analytics.Advice;

/// <summary>
/// <c>channelAdvice</c>: a workflow's channels over a window, from the run rollups in one statement, ranked by the lower
/// bound of the 95% Wilson score interval of the success rate (z = 1.96), then by median duration, then by name.
/// </summary>
public sealed class ChannelAdviceQuery(QueryLimits limits, TimeProvider time)
{
    public const string TypeName = "ChannelAdvice";

    private const string Statement = """
        WITH rows AS (
          SELECT channel, status, runs, timed, duration_sum, duration_min, duration_max, histogram_buckets, histogram_counts
            FROM trace_stats_hourly
           WHERE workflow_id = $1 AND start_time >= $2 AND start_time < $3),
        channels AS (
          SELECT channel, sum(runs)::bigint AS runs,
                 coalesce(sum(runs) FILTER (WHERE status NOT IN ('pending', 'active')), 0)::bigint AS finished,
                 coalesce(sum(runs) FILTER (WHERE status = 'completed'), 0)::bigint AS completed,
                 sum(duration_sum)::float8 / nullif(sum(timed), 0) AS avg, min(duration_min) AS lo, max(duration_max) AS hi
            FROM rows GROUP BY channel HAVING sum(runs) <> 0),
        buckets AS (
          SELECT channel, hb, sum(n) OVER (PARTITION BY channel ORDER BY hb) AS running, sum(n) OVER (PARTITION BY channel) AS total
            FROM (SELECT r.channel, h.hb, sum(h.n) AS n
                    FROM rows r CROSS JOIN LATERAL unnest(r.histogram_buckets, r.histogram_counts) h (hb, n) GROUP BY 1, 2) x),
        quantiles AS (
          SELECT channel,
                 stats_bucket_value(min(hb) FILTER (WHERE running >= greatest(ceil(0.5 * total), 1))) AS q50,
                 stats_bucket_value(min(hb) FILTER (WHERE running >= greatest(ceil(0.9 * total), 1))) AS q90,
                 stats_bucket_value(min(hb) FILTER (WHERE running >= greatest(ceil(0.95 * total), 1))) AS q95,
                 stats_bucket_value(min(hb) FILTER (WHERE running >= greatest(ceil(0.99 * total), 1))) AS q99
            FROM buckets GROUP BY channel),
        scored AS (
          SELECT c.*, w.p, w.low, w.high,
                 least(greatest(q.q50, c.lo), c.hi) AS p50, least(greatest(q.q90, c.lo), c.hi) AS p90,
                 least(greatest(q.q95, c.lo), c.hi) AS p95, least(greatest(q.q99, c.lo), c.hi) AS p99
            FROM channels c
            LEFT JOIN quantiles q USING (channel)
           CROSS JOIN LATERAL (SELECT c.completed::float8 / nullif(c.finished, 0) AS p, nullif(c.finished, 0)::float8 AS n,
                                      1.96::float8 AS z) v
           CROSS JOIN LATERAL (
             SELECT v.p,
                    (v.p + v.z ^ 2 / (2 * v.n) - v.z * sqrt(v.p * (1 - v.p) / v.n + v.z ^ 2 / (4 * v.n ^ 2)))
                      / (1 + v.z ^ 2 / v.n) AS low,
                    (v.p + v.z ^ 2 / (2 * v.n) + v.z * sqrt(v.p * (1 - v.p) / v.n + v.z ^ 2 / (4 * v.n ^ 2)))
                      / (1 + v.z ^ 2 / v.n) AS high) w),
        ranked AS (SELECT s.*, row_number() OVER (ORDER BY s.low DESC NULLS LAST, s.p50 ASC NULLS LAST, s.channel) AS rank FROM scored s)
        SELECT coalesce(json_agg(json_build_object(
                 'rank', rank, 'channel', upper(channel), 'runs', runs, 'finished', finished, 'completed', completed,
                 'successRate', round((100 * p)::numeric, 2)::float8,
                 'successRateLow', round((100 * low)::numeric, 2)::float8, 'successRateHigh', round((100 * high)::numeric, 2)::float8,
                 'durationMs', json_build_object('avg', avg, 'min', lo, 'max', hi, 'p50', round(p50::numeric, 2)::float8,
                                                 'p90', round(p90::numeric, 2)::float8, 'p95', round(p95::numeric, 2)::float8,
                                                 'p99', round(p99::numeric, 2)::float8),
                 'explanation', CASE WHEN finished = 0
                   THEN format('rank %s: %s has %s runs in the window and none finished yet, so nothing is known of its success',
                               rank, channel, runs)
                   ELSE format('rank %s: %s completed %s of %s finished runs (%s%%); the 95%% Wilson interval is %s%% to %s%%, '
                               'ranked by its lower bound %s%%; median duration %s ms, p95 %s ms',
                               rank, channel, completed, finished, round((100 * p)::numeric, 1), round((100 * low)::numeric, 1),
                               round((100 * high)::numeric, 1), round((100 * low)::numeric, 1), round(p50::numeric), round(p95::numeric))
                 END) ORDER BY rank), '[]'::json)::text
          FROM ranked
        """;

    public async Task<object?> ExecuteAsync(IResolveFieldContext context, RequestDatabase database)
    {
        var field = SelectionReader.Read(context);
        var workflow = GlobalId.Decode(field.Argument("workflowId"), "Workflow", ScalarKind.Uuid);
        var window = AdviceWindow.Read(field.Argument("window"), limits, time, defaultDays: 7);
        var parameters = new List<Npgsql.NpgsqlParameter>
        {
            new() { Value = workflow!, NpgsqlDbType = NpgsqlDbType.Uuid },
            new() { Value = window.From, NpgsqlDbType = NpgsqlDbType.TimestampTz },
            new() { Value = window.To, NpgsqlDbType = NpgsqlDbType.TimestampTz },
        };
        var json = await database.QueryAsync(Statement, parameters, async (reader, ct) =>
            await reader.ReadAsync(ct) ? reader.GetString(0) : "[]", context.CancellationToken);
        using var document = JsonDocument.Parse(json);
        return new RawJson(StatsProjection.Write(document.RootElement, field.Children, TypeName, _ => StatsSubject.DurationsType));
    }
}
