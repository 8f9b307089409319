using NpgsqlTypes;
using WorkflowGraph.Querying.Emit;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;

namespace WorkflowGraph.Analytics.Stats;

/// <summary>
/// Writes a <see cref="StatsPlan"/> as one statement. Both sources produce the same two sets — counts per group and
/// status (<c>counts</c>) and histogram buckets per group (<c>hist</c>, one row per group and bucket) — from the rollup
/// rows (daily for the whole UTC days the plan allows, hourly for the rest) or from the raw rows (whose durations are
/// bucketed with the rollups' own function), and everything after them is shared: so the two sources give the same
/// answer for the same rows. The result is the total, one JSON object per group of the page and the time the rollups
/// are complete up to.
/// </summary>
public static class StatsSql
{
    public static Sql Emit(StatsPlan plan, StatementScope scope)
    {
        var subject = plan.Subject;
        var row = scope.Alias();
        var groups = Groups(plan);
        Func<Sql, Sql> bucket = _ => Sql.Raw("NULL");
        if (plan.Bucket is { } b)
        {
            var unit = scope.Parameter(b.Unit, NpgsqlDbType.Text);
            var zone = scope.Parameter(b.TimeZone, NpgsqlDbType.Text);
            bucket = started => Sql.Of($"date_trunc({unit}, {started}, {zone})");
        }

        Sql source;
        Sql counts;
        Sql hist;
        if (plan.RollupWhere is { } rollupWhere)
        {
            var dims = Dimensions(plan, row, row, row.Column("start_time"), bucket);
            var condition = FilterSql.Condition(rollupWhere, row, scope);
            Sql Part(string table, Sql range) => Sql.Of(
                $"SELECT {dims}, {row}.status AS s_status, {row}.{Sql.Raw(subject.RollupCount)} AS n, {row}.timed, " +
                $"{row}.duration_sum AS total, {row}.duration_min AS lo, {row}.duration_max AS hi, " +
                $"{row}.histogram_buckets, {row}.histogram_counts " +
                $"FROM {Sql.Raw(table)} {row}{Sql.And([condition, range]).After(" WHERE ")}");
            Sql Range(DateTime from, DateTime to) => Sql.Of(
                $"{row}.start_time >= {scope.Parameter(from, NpgsqlDbType.TimestampTz)} " +
                $"AND {row}.start_time < {scope.Parameter(to, NpgsqlDbType.TimestampTz)}");
            if (plan.Days is { } days)
            {
                // whole UTC days from the daily rows, the hours before and after them from the hourly ones
                var parts = new List<Sql> { Part(subject.DailyRollupTable, Range(days.From, days.To)) };
                if (days.WindowFrom < days.From)
                    parts.Add(Part(subject.RollupTable, Range(days.WindowFrom, days.From)));
                if (days.To < days.WindowTo)
                    parts.Add(Part(subject.RollupTable, Range(days.To, days.WindowTo)));
                source = Sql.Join(" UNION ALL ", parts);
            }
            else
            {
                source = Part(subject.RollupTable, Sql.Empty);
            }
            counts = Sql.Of(
                $"SELECT {groups}, s_status, sum(n) AS n, sum(timed) AS timed, sum(total) AS total, min(lo) AS lo, max(hi) AS hi " +
                $"FROM source GROUP BY {groups}, s_status");
            // a histogram is its non-empty buckets and their counts, two arrays (db/migrations/045)
            // summed as bigint: numeric sums are slower to merge and to run over
            hist = Sql.Of(
                $"SELECT {groups}, h.hb, sum(h.n)::bigint AS n " +
                $"FROM source CROSS JOIN LATERAL unnest(source.histogram_buckets, source.histogram_counts) h (hb, n) " +
                $"GROUP BY {groups}, h.hb");
        }
        else
        {
            var condition = FilterSql.Condition(plan.Where, row, scope);
            if (subject.HasNodes)
            {
                var run = scope.Alias();
                var started = Sql.Of($"coalesce({row}.start_time, {row}.created_at)");
                source = Sql.Of(
                    $"SELECT {Dimensions(plan, row, run, started, bucket)}, {row}.status AS s_status, {row}.duration_ms AS d " +
                    $"FROM workflow_steps {row} JOIN workflow_trace {run} ON {run}.id = {row}.trace_id{condition.After(" WHERE ")}");
            }
            else
            {
                source = Sql.Of(
                    $"SELECT {Dimensions(plan, row, row, row.Column("start_time"), bucket)}, " +
                    $"{row}.status AS s_status, {row}.duration_ms AS d " +
                    $"FROM workflow_trace {row}{condition.After(" WHERE ")}");
            }
            counts = Sql.Of(
                $"SELECT {groups}, s_status, count(*) AS n, count(d) AS timed, coalesce(sum(d), 0) AS total, min(d) AS lo, max(d) AS hi " +
                $"FROM source GROUP BY {groups}, s_status");
            hist = Sql.Of(
                $"SELECT {groups}, stats_duration_bucket(d) AS hb, count(*) AS n FROM source WHERE d IS NOT NULL GROUP BY {groups}, hb");
        }

        var open = Sql.Raw(string.Join(", ", subject.OpenStatuses.Select(s => $"'{s}'")));
        var order = Sql.Join(", ", plan.Order.Select(o => Sql.Raw($"{o.Column} {(o.Descending ? "DESC" : "ASC")} NULLS LAST"))
            .Append(Sql.Raw(string.Join(", ", Columns(plan).Select(c => c + " ASC")))));
        var after = scope.Parameter(plan.After, NpgsqlDbType.Bigint);
        var limit = scope.Parameter((long)plan.First + 1, NpgsqlDbType.Bigint);
        // how fresh the rollups are, read in the same snapshot as they are (db/migrations/030)
        var asOf = Sql.Raw(plan.FromRollups ? "(SELECT refreshed_to FROM stats_rollup_progress)" : "NULL::timestamptz");
        return Sql.Of(
            $"WITH source AS ({source}), counts AS ({counts}), hist AS ({hist}), " +
            $"grouped AS (SELECT {groups}, sum(n)::bigint AS count, " +
            $"sum(n) FILTER (WHERE s_status = 'completed') AS completed, " +
            $"sum(n) FILTER (WHERE s_status NOT IN ({open})) AS finished, " +
            $"sum(total)::float8 / nullif(sum(timed), 0) AS avg, min(lo) AS lo, max(hi) AS hi, " +
            $"json_agg(json_build_object('status', upper(s_status), 'count', n) ORDER BY s_status) FILTER (WHERE n <> 0) AS by_status " +
            $"FROM counts GROUP BY {groups} HAVING sum(n) <> 0), " +
            $"buckets AS (SELECT {groups}, hb, sum(n) OVER (PARTITION BY {groups} ORDER BY hb) AS running, " +
            $"sum(n) OVER (PARTITION BY {groups}) AS timed FROM hist WHERE n <> 0), " +
            $"histograms AS (SELECT {groups}, {Rank("0.5", "b50")}, {Rank("0.9", "b90")}, {Rank("0.95", "b95")}, {Rank("0.99", "b99")} " +
            $"FROM buckets GROUP BY {groups}), " +
            $"measured AS (SELECT g.*, round(100.0 * coalesce(g.completed, 0) / nullif(g.finished, 0), 2)::float8 AS success_rate, " +
            $"{Percentile("b50")} AS p50, {Percentile("b90")} AS p90, {Percentile("b95")} AS p95, {Percentile("b99")} AS p99 " +
            $"FROM grouped g LEFT JOIN histograms x USING ({groups})), " +
            $"ranked AS (SELECT m.*, row_number() OVER (ORDER BY {order}) AS pos FROM measured m) " +
            $"SELECT c.total, p.pos, p.node, {asOf} AS as_of FROM (SELECT count(*) AS total FROM measured) c LEFT JOIN LATERAL (" +
            $"SELECT r.pos, {Node(plan, SqlAlias.Named("r"))}::text AS node " +
            $"FROM ranked r WHERE r.pos > {after} ORDER BY r.pos LIMIT {limit}" +
            $") p ON true ORDER BY p.pos");
    }

    /// <summary>
    /// The bucket of a group's nearest-rank quantile: the first whose running count reaches rank ceil(q n), at least 1
    /// (what stats_histogram_percentile does for one histogram, here for every group in one pass).
    /// </summary>
    private static Sql Rank(string quantile, string column) =>
        Sql.Raw($"min(hb) FILTER (WHERE running >= greatest(ceil({quantile} * timed), 1)) AS {column}");

    /// <summary>
    /// A percentile of the group's histogram (its bucket's value), held between the exact min and max (the exact
    /// percentile lies there, so this only brings the estimate closer) and rounded to hundredths of a millisecond.
    /// </summary>
    private static Sql Percentile(string bucket) =>
        Sql.Raw($"round(least(greatest(stats_bucket_value(x.{bucket}), g.lo), g.hi)::numeric, 2)::float8");

    public static IEnumerable<string> Columns(StatsPlan plan) =>
        plan.Dimensions.Select(d => d switch
        {
            StatsDimension.Workflow => "g_workflow",
            StatsDimension.Channel => "g_channel",
            StatsDimension.Status => "g_status",
            StatsDimension.Node => "g_node",
            _ => "g_bucket",
        }).Prepend("g_all");

    private static Sql Groups(StatsPlan plan) => Sql.Raw(string.Join(", ", Columns(plan)));

    /// <summary>The group columns of one row: <paramref name="run"/> holds the workflow and channel (the run of a step).</summary>
    private static Sql Dimensions(StatsPlan plan, SqlAlias row, SqlAlias run, Sql started, Func<Sql, Sql> bucket)
    {
        var columns = new List<Sql> { Sql.Raw("0 AS g_all") };
        foreach (var dimension in plan.Dimensions)
            columns.Add(dimension switch
            {
                StatsDimension.Workflow => Sql.Of($"{run}.workflow_id AS g_workflow"),
                StatsDimension.Channel => Sql.Of($"{run}.channel AS g_channel"),
                StatsDimension.Status => Sql.Of($"{row}.status AS g_status"),
                StatsDimension.Node => Sql.Of($"{row}.node_id AS g_node"),
                _ => Sql.Of($"{bucket(started)} AS g_bucket"),
            });
        return Sql.Join(", ", columns);
    }

    private static Sql Node(StatsPlan plan, SqlAlias r)
    {
        var dims = plan.Dimensions;
        Sql Key(StatsDimension dimension, Sql value) => dims.Contains(dimension) ? value : Sql.Raw("NULL");
        var key = Sql.Of(
            $"json_build_object('workflowId', {Key(StatsDimension.Workflow, GlobalId.Expression("Workflow", [r.Column("g_workflow")]))}, " +
            $"'channel', {Key(StatsDimension.Channel, Sql.Of($"upper({r}.g_channel)"))}, " +
            $"'status', {Key(StatsDimension.Status, Sql.Of($"upper({r}.g_status)"))}, " +
            $"'nodeId', {Key(StatsDimension.Node, GlobalId.Expression("WorkflowNode", [r.Column("g_node")]))}, " +
            $"'bucketStart', {Key(StatsDimension.Bucket, r.Column("g_bucket"))})");
        return Sql.Of(
            $"json_build_object('key', {key}, 'count', {r}.count, 'countByStatus', coalesce({r}.by_status, '[]'::json), " +
            $"'successRate', {r}.success_rate, 'durationMs', json_build_object('avg', {r}.avg, 'min', {r}.lo, 'max', {r}.hi, " +
            $"'p50', {r}.p50, 'p90', {r}.p90, 'p95', {r}.p95, 'p99', {r}.p99))");
    }
}
