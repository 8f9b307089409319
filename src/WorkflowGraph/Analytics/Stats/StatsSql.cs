using NpgsqlTypes;
using WorkflowGraph.Querying.Emit;
using WorkflowGraph.Querying.Fragments;

namespace WorkflowGraph.Analytics.Stats;

/// <summary>
/// Writes a <see cref="StatsPlan"/> as one statement that returns the plan's cells: one row per group and status of a
/// source row — counts, duration sum and extremes, and the histogram packed as the rollups store it (the binary form
/// of its non-empty buckets' array, then of their counts': db/migrations/052); or, from the folded rollups (054), one row
/// per group of the set's dimensions without a status, its counts per status packed the same way (labels, counts).
/// From the rollups the cells are the rollup rows themselves (daily for the whole UTC days the plan allows, hourly for
/// the rest), read as they are stored; from the raw rows they are the rows grouped by group and status, their durations
/// bucketed with the rollups' own function. <see cref="StatsGroups"/> merges the cells into groups, measures, orders and
/// pages them in the service: so both sources give the same answer for the same rows, and PostgreSQL only reads (a
/// merge of histograms in SQL cost it 8-10x the read: db/migrations/045, bench/README). The first column is the time
/// the rollups are complete up to, on every row and on the one row of an empty answer.
/// </summary>
public static class StatsSql
{
    public static Sql Emit(StatsPlan plan, StatementScope scope)
    {
        var subject = plan.Subject;
        var row = scope.Alias();
        Func<Sql, Sql> bucket = _ => Sql.Raw("NULL");
        if (plan.Bucket is { } b)
        {
            // parameters made when first used: a statement whose rows all start their buckets sends none
            Sql? unit = null, zone = null;
            bucket = started => Sql.Of(
                $"date_trunc({unit ??= scope.Parameter(b.Unit, NpgsqlDbType.Text)}, {started}, " +
                $"{zone ??= scope.Parameter(b.TimeZone, NpgsqlDbType.Text)})");
        }

        Sql cells;
        if (plan.RollupWhere is { } rollupWhere)
        {
            var condition = FilterSql.Condition(rollupWhere, row, scope);
            // a UTC bucket of a rollup row's own length starts at the row's start: no date_trunc per row (~0.5 µs each)
            var utc = plan.Bucket is { TimeZone: "UTC" or "Etc/UTC" };
            // the folded rows of one set (db/migrations/054) carry their counts per status packed, and no status
            Sql Part(int hours, Sql range)
            {
                var own = hours switch { 1 => "hour", 6 => "block", 24 => "day", _ => "week" };
                var rowBucket = utc && plan.Bucket!.Unit == own ? started => started : bucket;
                Sql table, status, byStatus, set;
                if (plan.Folded is { } kept)
                {
                    (table, status, byStatus) = (Sql.Raw(subject.FoldedRollupTable), Sql.Raw("NULL::text"), Sql.Of($"{row}.by_status"));
                    set = Sql.Raw($"{row.Name}.hours = {hours} AND {row.Name}.kept = {kept}");
                }
                else
                {
                    table = Sql.Raw(hours == 24 ? subject.DailyRollupTable : subject.RollupTable);
                    (status, byStatus, set) = (Sql.Of($"{row}.status"), Sql.Raw("NULL::bytea"), Sql.Empty);
                }
                return Sql.Of(
                    $"SELECT {Dimensions(plan, row, row, row.Column("start_time"), rowBucket)}{status} AS s_status, " +
                    $"{row}.{Sql.Raw(subject.RollupCount)} AS n, {row}.timed, " +
                    $"{row}.duration_sum AS total, {row}.duration_min AS lo, {row}.duration_max AS hi, {row}.histogram AS h, " +
                    $"{byStatus} AS sc FROM {table} {row}{Sql.And([set, condition, range]).After(" WHERE ")}");
            }
            Sql Range(DateTime from, DateTime to) => Sql.Of(
                $"{row}.start_time >= {scope.Parameter(from, NpgsqlDbType.TimestampTz)} " +
                $"AND {row}.start_time < {scope.Parameter(to, NpgsqlDbType.TimestampTz)}");
            if (plan.Days is { } days)
            {
                // whole UTC days from the daily rows (whole weeks among them from the folded weekly rows when the plan
                // allows), the hours before and after them from the hourly ones (whole blocks of six hours among them
                // from the folded blocks: the days are whole blocks)
                var parts = new List<Sql>();
                void Cover(DateTime from, DateTime to, int narrow, int wide, (DateTime From, DateTime To)? whole)
                {
                    if (from >= to)
                        return;
                    if (whole is not { } w || w.From >= w.To)
                    {
                        parts.Add(Part(narrow, Range(from, to)));
                        return;
                    }
                    parts.Add(Part(wide, Range(w.From, w.To)));
                    if (from < w.From)
                        parts.Add(Part(narrow, Range(from, w.From)));
                    if (w.To < to)
                        parts.Add(Part(narrow, Range(w.To, to)));
                }
                (DateTime, DateTime)? Blocks(DateTime from, DateTime to) => plan.Folded is null ? null
                    : (StatsPlanner.Align(from, SixHours, up: true), StatsPlanner.Align(to, SixHours, up: false));
                Cover(days.From, days.To, 24, 168, days.Weeks);
                Cover(days.WindowFrom, days.From, 1, 6, Blocks(days.WindowFrom, days.From));
                Cover(days.To, days.WindowTo, 1, 6, Blocks(days.To, days.WindowTo));
                cells = Sql.Join(" UNION ALL ", parts);
            }
            else
            {
                cells = Part(1, Sql.Empty);
            }
        }
        else
        {
            var condition = FilterSql.Condition(plan.Where, row, scope);
            Sql source;
            if (subject.HasNodes)
            {
                var run = scope.Alias();
                var started = Sql.Of($"coalesce({row}.start_time, {row}.created_at)");
                source = Sql.Of(
                    $"SELECT {Dimensions(plan, row, run, started, bucket)}{row}.status AS s_status, {row}.duration_ms AS d " +
                    $"FROM workflow_steps {row} JOIN workflow_trace {run} ON {run}.id = {row}.trace_id{condition.After(" WHERE ")}");
            }
            else
            {
                source = Sql.Of(
                    $"SELECT {Dimensions(plan, row, row, row.Column("start_time"), bucket)}" +
                    $"{row}.status AS s_status, {row}.duration_ms AS d " +
                    $"FROM workflow_trace {row}{condition.After(" WHERE ")}");
            }
            // one pass: a cell per group, status and duration bucket, then a group and status's buckets into two arrays
            var keys = Sql.Raw(string.Concat(Columns(plan).Select(c => c + ", ")) + "s_status");
            cells = Sql.Of(
                $"SELECT {keys}, sum(n)::bigint AS n, sum(timed)::bigint AS timed, sum(total)::bigint AS total, " +
                $"min(lo) AS lo, max(hi) AS hi, stats_histogram_pack(array_agg(hb) FILTER (WHERE hb IS NOT NULL), " +
                $"array_agg(timed) FILTER (WHERE hb IS NOT NULL)) AS h, NULL::bytea AS sc FROM (" +
                $"SELECT {keys}, stats_duration_bucket(d) AS hb, count(*) AS n, count(d) AS timed, coalesce(sum(d), 0) AS total, " +
                $"min(d) AS lo, max(d) AS hi FROM ({source}) source GROUP BY {keys}, hb) bucketed GROUP BY {keys}");
        }

        // how fresh the rollups are, read in the same snapshot as they are (db/migrations/030)
        var asOf = Sql.Raw(plan.FromRollups ? "(SELECT refreshed_to FROM stats_rollup_progress)" : "NULL::timestamptz");
        return Sql.Of($"SELECT a.as_of, c.* FROM (SELECT {asOf} AS as_of) a LEFT JOIN ({cells}) c ON true");
    }

    private static readonly TimeSpan SixHours = TimeSpan.FromHours(6);

    public static IEnumerable<string> Columns(StatsPlan plan) =>
        plan.Dimensions.Select(d => d switch
        {
            StatsDimension.Workflow => "g_workflow",
            StatsDimension.Channel => "g_channel",
            StatsDimension.Status => "g_status",
            StatsDimension.Node => "g_node",
            _ => "g_bucket",
        });

    /// <summary>
    /// The group columns of one row, each followed by a comma: <paramref name="run"/> holds the workflow and channel (the
    /// run of a step).
    /// </summary>
    private static Sql Dimensions(StatsPlan plan, SqlAlias row, SqlAlias run, Sql started, Func<Sql, Sql> bucket)
    {
        var columns = new List<Sql>();
        foreach (var dimension in plan.Dimensions)
            columns.Add(dimension switch
            {
                StatsDimension.Workflow => Sql.Of($"{run}.workflow_id AS g_workflow"),
                StatsDimension.Channel => Sql.Of($"{run}.channel AS g_channel"),
                StatsDimension.Status => Sql.Of($"{row}.status AS g_status"),
                StatsDimension.Node => Sql.Of($"{row}.node_id AS g_node"),
                _ => Sql.Of($"{bucket(started)} AS g_bucket"),
            });
        return Sql.Join("", columns.Select(c => Sql.Of($"{c}, ")));
    }
}
