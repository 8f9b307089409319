using System.Text.Json;
using GraphQL;
using NpgsqlTypes;
using WorkflowGraph.Analytics.Stats;
using WorkflowGraph.Database;
using WorkflowGraph.Querying;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Selection;

namespace WorkflowGraph.Analytics.Advice;

/// <summary>
/// <c>anomalies</c>: every workflow × channel series of the run rollups and every workflow × channel × node series of the
/// step rollups, its interval against its trailing baseline, in one statement. The thresholds are the ones the schema states
/// (<c>Anomaly</c>), the same for both levels: a one-sided two-proportion z test for the failure rate, a ratio of p95s for
/// durations, each with a minimum of evidence so that noise is not reported.
/// </summary>
public sealed class AnomaliesQuery(QueryLimits limits, TimeProvider time)
{
    public const string TypeName = "Anomaly";

    /// <summary>
    /// Parameters: baseline start, interval start, interval end (whole UTC hours); runs under the tenant. A run-level series
    /// has node 0 inside the statement (node ids start at 1) and a null <c>nodeId</c> in the answer.
    /// </summary>
    internal static readonly string Statement = $$"""
        WITH rows AS (
          SELECT workflow_id, channel, 0 AS node, runs AS n, timed, histogram_buckets, histogram_counts, start_time >= $2 AS current,
                 status NOT IN ('pending', 'active') AS finished, status IN ('failed', 'timeout') AS failed
            FROM trace_stats_hourly WHERE start_time >= $1 AND start_time < $3
          UNION ALL
          SELECT workflow_id, channel, node_id, steps, timed, histogram_buckets, histogram_counts, start_time >= $2,
                 status NOT IN ('pending', 'running'), status IN ('failed', 'timeout')
            FROM step_stats_hourly WHERE start_time >= $1 AND start_time < $3),
        series AS (
          SELECT workflow_id, channel, node, CASE WHEN node = 0 THEN 'runs' ELSE 'steps' END AS unit,
                 coalesce(sum(n) FILTER (WHERE current AND finished), 0)::float8 AS n_c,
                 coalesce(sum(n) FILTER (WHERE current AND failed), 0)::float8 AS f_c,
                 coalesce(sum(n) FILTER (WHERE NOT current AND finished), 0)::float8 AS n_b,
                 coalesce(sum(n) FILTER (WHERE NOT current AND failed), 0)::float8 AS f_b,
                 coalesce(sum(timed) FILTER (WHERE current), 0) AS t_c, coalesce(sum(timed) FILTER (WHERE NOT current), 0) AS t_b
            FROM rows GROUP BY workflow_id, channel, node),
        -- histograms are merged only for the series with enough timed runs (steps) on both sides to be judged
        timed AS (SELECT workflow_id, channel, node FROM series WHERE t_c >= 20 AND t_b >= 20),
        buckets AS (
          SELECT workflow_id, channel, node, current, hb,
                 sum(n) OVER (PARTITION BY workflow_id, channel, node, current ORDER BY hb) AS running,
                 sum(n) OVER (PARTITION BY workflow_id, channel, node, current) AS total
            FROM (SELECT r.workflow_id, r.channel, r.node, r.current, h.hb, sum(h.n)::bigint AS n
                    FROM rows r JOIN timed USING (workflow_id, channel, node)
                   CROSS JOIN LATERAL unnest(r.histogram_buckets, r.histogram_counts) h (hb, n)
                   GROUP BY 1, 2, 3, 4, 5) x),
        p95 AS (
          SELECT workflow_id, channel, node,
                 stats_bucket_value(min(hb) FILTER (WHERE current AND running >= greatest(ceil(0.95 * total), 1))) AS p95_c,
                 stats_bucket_value(min(hb) FILTER (WHERE NOT current AND running >= greatest(ceil(0.95 * total), 1))) AS p95_b
            FROM buckets GROUP BY workflow_id, channel, node),
        failures AS (
          SELECT s.workflow_id, s.channel, s.node, 'FAILURE_RATE' AS metric, 100 * s.f_c / s.n_c AS current,
                 100 * s.f_b / s.n_b AS baseline, s.n_c AS current_count, s.n_b AS baseline_count, z.z AS score, 3.0::float8 AS threshold,
                 format('%s of %s finished %s failed or timed out in the interval (%s%%) against %s of %s in the baseline (%s%%): '
                        'z = %s, reported from z >= 3 and 10 points more',
                        s.f_c, s.n_c, s.unit, round((100 * s.f_c / s.n_c)::numeric, 1), s.f_b, s.n_b,
                        round((100 * s.f_b / s.n_b)::numeric, 1), round(z.z::numeric, 2)) AS explanation
            FROM series s
           CROSS JOIN LATERAL (SELECT (s.f_c + s.f_b) / (s.n_c + s.n_b) AS pooled) p
           CROSS JOIN LATERAL (
             SELECT (s.f_c / s.n_c - s.f_b / s.n_b)
                    / nullif(sqrt(p.pooled * (1 - p.pooled) * (1 / s.n_c + 1 / s.n_b)), 0) AS z) z
           WHERE s.n_c >= 10 AND s.n_b >= 10 AND z.z >= 3 AND s.f_c / s.n_c - s.f_b / s.n_b >= 0.10),
        slow AS (
          SELECT s.workflow_id, s.channel, s.node, 'P95_DURATION' AS metric, p.p95_c AS current, p.p95_b AS baseline,
                 s.n_c AS current_count, s.n_b AS baseline_count, p.p95_c / p.p95_b AS score, 1.5::float8 AS threshold,
                 format('p95 duration %s ms over %s finished %s in the interval against %s ms over %s in the baseline: '
                        '%s times, reported from 1.5 times (percentiles within 2%%)',
                        round(p.p95_c::numeric), s.t_c, s.unit, round(p.p95_b::numeric), s.t_b, round((p.p95_c / p.p95_b)::numeric, 2))
            FROM series s JOIN p95 p USING (workflow_id, channel, node)
           WHERE p.p95_b > 0 AND p.p95_c >= 1.5 * p.p95_b),
        found AS (SELECT * FROM failures UNION ALL SELECT * FROM slow)
        SELECT coalesce(json_agg(json_build_object(
                 'workflowId', {{GlobalId.Expression("Workflow", [Sql.Raw("workflow_id")])}},
                 'channel', upper(channel),
                 'nodeId', CASE WHEN node <> 0
                   THEN {{GlobalId.Expression("WorkflowNode", [Sql.Raw("node")])}} END,
                 'metric', metric, 'intervalStart', $2::timestamptz, 'intervalEnd', $3::timestamptz,
                 'current', round(current::numeric, 2)::float8, 'baseline', round(baseline::numeric, 2)::float8,
                 'currentCount', current_count::bigint, 'baselineCount', baseline_count::bigint,
                 'score', round(score::numeric, 2)::float8, 'threshold', threshold, 'explanation', explanation)
                 ORDER BY metric, score DESC, workflow_id, channel, node), '[]'::json)::text
          FROM found
        """;

    public async Task<object?> ExecuteAsync(IResolveFieldContext context, RequestDatabase database)
    {
        var field = SelectionReader.Read(context);
        var input = field.Argument("window") as IDictionary<string, object?>;
        var intervalHours = input?.TryGetValue("intervalHours", out var i) == true && i is int ih ? ih : 1;
        var baselineHours = input?.TryGetValue("baselineHours", out var b) == true && b is int bh ? bh : 24;
        // summed as long: a baseline near int.MaxValue must be refused, not wrap into a negative window
        var windowDays = ((long)intervalHours + baselineHours) / 24.0;
        if (intervalHours is < 1 or > 168 || baselineHours < 1 || windowDays > limits.MaxStatsWindowDays)
            throw StatsErrors.WindowTooLarge(windowDays, limits.MaxStatsWindowDays);
        var end = input?.TryGetValue("end", out var e) == true && e is not null ? StatsPlanner.Utc(e) : time.GetUtcNow().UtcDateTime;
        if (end.Ticks % TimeSpan.TicksPerHour != 0)
            end = new DateTime(end.Ticks - end.Ticks % TimeSpan.TicksPerHour + TimeSpan.TicksPerHour, DateTimeKind.Utc);
        var start = end.AddHours(-intervalHours);
        var parameters = new List<Npgsql.NpgsqlParameter>
        {
            new() { Value = start.AddHours(-baselineHours), NpgsqlDbType = NpgsqlDbType.TimestampTz },
            new() { Value = start, NpgsqlDbType = NpgsqlDbType.TimestampTz },
            new() { Value = end, NpgsqlDbType = NpgsqlDbType.TimestampTz },
        };
        var json = await database.QueryAsync(Statement, parameters, async (reader, ct) =>
            await reader.ReadAsync(ct) ? reader.GetString(0) : "[]", context.CancellationToken);
        using var document = JsonDocument.Parse(json);
        return new RawJson(StatsProjection.Write(document.RootElement, field.Children, TypeName, _ => TypeName));
    }
}
