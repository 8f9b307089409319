using System.Collections;
using System.Globalization;
using WorkflowGraph.Querying;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Plans;
using WorkflowGraph.Querying.Selection;

namespace WorkflowGraph.Analytics.Stats;

/// <summary>
/// Reads a statistics field (<c>traceStats</c>, <c>stepStats</c>) into a <see cref="StatsPlan"/>: the filter, the window
/// it bounds, the groups, the bucket and its time zone, the order and the page, every one checked before any SQL; and
/// whether the hourly rollups can answer it (<see cref="StatsRollupFilter"/>).
/// </summary>
public sealed class StatsPlanner(QueryLimits limits)
{
    private const string StartTime = "start_time";

    public StatsPlan Plan(StatsSubject subject, EntityMap map, FieldSelection field)
    {
        var first = limits.PageSize(field.Argument("first") as int?, null);
        var after = DecodeCursor(field.Argument("after") as string);
        var where = field.Argument("where") is IDictionary<string, object?> input ? FilterPlanner.Plan(map, input) : new AllOf([]);
        var (from, to) = Window(where, field.Name);
        var days = (to - from).TotalDays;
        if (days > limits.MaxStatsWindowDays)
            throw StatsErrors.WindowTooLarge(days, limits.MaxStatsWindowDays);

        var dimensions = Dimensions(subject, field.Argument("groupBy"));
        var (bucket, zone) = Bucket(field.Argument("bucket"), from, to);
        if (bucket is not null)
            dimensions.Add(StatsDimension.Bucket);

        var reason = StatsRollupFilter.Rewrite(subject, where, out var rollupWhere);
        if (reason is null && zone is not null && !WholeHours(zone, from, to))
            reason = $"the offsets of {zone.Id} are not whole hours, so its buckets do not start on the hour";
        if (reason is not null)
            rollupWhere = null;
        var wholeDays = rollupWhere is null ? null : Days(rollupWhere, from, to, bucket, zone);

        var projections = new List<(string, FieldSelection)>();
        foreach (var child in field.Children)
        {
            if (child.Name == "nodes")
                projections.Add(($"nodes/{child.ResponseKey}", child));
            else if (child.Name == "edges")
                foreach (var node in child.ChildrenNamed("node"))
                    projections.Add(($"edges/{child.ResponseKey}/{node.ResponseKey}", node));
        }
        var folded = rollupWhere is null ? null : StatsRollupFilter.FoldedSet(subject, dimensions, rollupWhere);
        if (folded is not null && wholeDays is not null)
            wholeDays = wholeDays with { Weeks = Weeks(rollupWhere!, wholeDays, bucket) };
        var plan = new StatsPlan(subject, where, rollupWhere, reason, dimensions, bucket, Order(field.Argument("order")), first, after,
            projections, CountsTotal: field.Children.Any(c => c.Name == "totalCount"), wholeDays, folded);
        var grouped = StatsSql.Columns(plan).ToHashSet(StringComparer.Ordinal);
        var ungrouped = plan.Order.FirstOrDefault(o => o.Column.StartsWith("g_", StringComparison.Ordinal) && !grouped.Contains(o.Column));
        if (ungrouped is not null)
            throw QueryErrors.InvalidFilter($"cannot sort by a key field that is not grouped by ({ungrouped.Column[2..]})");
        return plan;
    }

    public static string EncodeCursor(long position) => Base64Url.Encode("stats:" + position.ToString(CultureInfo.InvariantCulture));

    private static long DecodeCursor(string? cursor)
    {
        if (cursor is null)
            return 0;
        if (Base64Url.TryDecode(cursor, out var text) && text.StartsWith("stats:", StringComparison.Ordinal)
            && long.TryParse(text.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out var position) && position > 0)
            return position;
        throw QueryErrors.InvalidCursor("after is not a cursor of a statistics page");
    }

    /// <summary>The window the top level of <c>where</c> bounds on startTime (both ends required).</summary>
    private static (DateTime From, DateTime To) Window(Filter where, string field)
    {
        DateTime? from = null, to = null;
        foreach (var part in TopLevel(where))
        {
            if (part is not Comparison { Column.Column: StartTime, Value: not null } bound)
                continue;
            var at = Utc(bound.Value);
            switch (bound.Operator)
            {
                case ComparisonOperator.Gte or ComparisonOperator.Gt:
                    from = from is null || at > from ? at : from;
                    break;
                case ComparisonOperator.Lt or ComparisonOperator.Lte:
                    to = to is null || at < to ? at : to;
                    break;
            }
        }
        if (from is null || to is null)
            throw StatsErrors.WindowRequired(field);
        return (from.Value, to.Value < from.Value ? from.Value : to.Value);
    }

    private static IEnumerable<Filter> TopLevel(Filter filter) =>
        filter is AllOf all ? all.Parts.SelectMany(TopLevel) : [filter];

    /// <summary>A time of a window in UTC; years outside 1900 to 9000 are refused (windows are arithmetic on them).</summary>
    public static DateTime Utc(object value)
    {
        var time = value switch
        {
            DateTimeOffset offset => offset.UtcDateTime,
            DateTime local => local.Kind == DateTimeKind.Utc ? local : local.ToUniversalTime(),
            _ => throw new ArgumentOutOfRangeException(nameof(value), value, "not a time"),
        };
        return time.Year is >= 1900 and <= 9000
            ? time
            : throw QueryErrors.InvalidFilter("statistics windows lie between the years 1900 and 9000");
    }

    private static List<StatsDimension> Dimensions(StatsSubject subject, object? groupBy)
    {
        var dimensions = new List<StatsDimension>();
        if (groupBy is not IEnumerable items || groupBy is string)
            return dimensions;
        foreach (var item in items)
        {
            var dimension = item switch
            {
                "WORKFLOW" => StatsDimension.Workflow,
                "CHANNEL" => StatsDimension.Channel,
                "STATUS" => StatsDimension.Status,
                "NODE" when subject.HasNodes => StatsDimension.Node,
                "NODE" => throw StatsErrors.InvalidGroupBy("runs have no node: group steps by NODE (stepStats) instead"),
                _ => throw StatsErrors.InvalidGroupBy($"unknown group key {item}"),
            };
            if (!dimensions.Contains(dimension))
                dimensions.Add(dimension);
        }
        return dimensions;
    }

    private (StatsBucket? Bucket, TimeZoneInfo? Zone) Bucket(object? argument, DateTime from, DateTime to)
    {
        if (argument is not IDictionary<string, object?> input)
            return (null, null);
        var (unit, width) = input["unit"] switch
        {
            "HOUR" => ("hour", TimeSpan.FromHours(1)),
            "DAY" => ("day", TimeSpan.FromDays(1)),
            "WEEK" => ("week", TimeSpan.FromDays(7)),
            "MONTH" => ("month", TimeSpan.FromDays(28)),
            var other => throw StatsErrors.InvalidGroupBy($"unknown bucket unit {other}"),
        };
        var name = input.TryGetValue("timeZone", out var value) && value is string zone ? zone : "UTC";
        if (name.Length is 0 or > 64 || name.Contains('\0', StringComparison.Ordinal)
            || !TimeZoneInfo.TryFindSystemTimeZoneById(name, out var info) || !info.HasIanaId)
            throw StatsErrors.UnknownTimeZone(name);
        // a window not on bucket boundaries touches one bucket more at each end
        var buckets = (long)Math.Ceiling((to - from) / width) + 2;
        if (buckets > limits.MaxStatsBuckets)
            throw StatsErrors.TooManyGroups(buckets, limits.MaxStatsBuckets);
        return (new StatsBucket(unit, name), info);
    }

    /// <summary>
    /// The whole UTC days inside the window, when the daily rollups can answer them: buckets of a day or longer in a zone
    /// that is UTC all year (a day of another zone is not a UTC day), or no buckets; and every startTime bound below the
    /// top level on a UTC midnight (the top-level bounds are the window, whose edge hours the hourly rollups answer).
    /// </summary>
    private static StatsDays? Days(Filter rollupWhere, DateTime from, DateTime to, StatsBucket? bucket, TimeZoneInfo? zone)
    {
        if (bucket is { Unit: "hour" } || zone is not null && (zone.BaseUtcOffset != TimeSpan.Zero || zone.SupportsDaylightSavingTime))
            return null;
        var first = from.Ticks % TimeSpan.TicksPerDay == 0 ? from : from.Date.AddDays(1);
        var last = to.Date;
        if (last <= first || !StatsRollupFilter.DayAligned(rollupWhere))
            return null;
        return new StatsDays(from, DateTime.SpecifyKind(first, DateTimeKind.Utc), DateTime.SpecifyKind(last, DateTimeKind.Utc), to);
    }

    /// <summary>
    /// The whole UTC weeks (from Monday, as date_trunc counts them) among the whole days, when the folded weekly rows can
    /// answer them: no buckets or buckets of a UTC week (the days are UTC days already), and every startTime bound below
    /// the top level on the start of a week.
    /// </summary>
    private static (DateTime From, DateTime To)? Weeks(Filter rollupWhere, StatsDays days, StatsBucket? bucket)
    {
        if (bucket is not null && bucket.Unit != "week")
            return null;
        var week = TimeSpan.FromDays(7);
        var (first, last) = (Align(days.From, week, up: true), Align(days.To, week, up: false));
        if (last <= first || !StatsRollupFilter.Aligned(rollupWhere, at => at.Ticks % week.Ticks == 0))
            return null;
        return (first, last);
    }

    /// <summary>
    /// The start of the period of <paramref name="length"/> at or after (<paramref name="up"/>), or at or before, a UTC
    /// time. Periods are counted from 0001-01-01, a Monday at midnight: so UTC days, blocks of six hours from midnight
    /// and weeks from Monday (as date_trunc counts them) each start on a multiple of their length.
    /// </summary>
    public static DateTime Align(DateTime at, TimeSpan length, bool up)
    {
        var down = at.Ticks - at.Ticks % length.Ticks;
        return new DateTime(up && down < at.Ticks ? down + length.Ticks : down, DateTimeKind.Utc);
    }

    /// <summary>Every offset the zone uses around the window is a whole number of hours.</summary>
    private static bool WholeHours(TimeZoneInfo zone, DateTime from, DateTime to)
    {
        static bool Whole(TimeSpan offset) => offset.Ticks % TimeSpan.TicksPerHour == 0;
        if (!Whole(zone.GetUtcOffset(from)) || !Whole(zone.GetUtcOffset(to)) || !Whole(zone.BaseUtcOffset))
            return false;
        foreach (var rule in zone.GetAdjustmentRules())
        {
            if (rule.DateEnd < from.Date.AddDays(-1) || rule.DateStart > to.Date.AddDays(1))
                continue;
            var standard = zone.BaseUtcOffset + rule.BaseUtcOffsetDelta;
            if (!Whole(standard) || !Whole(standard + rule.DaylightDelta))
                return false;
        }
        return true;
    }

    private static List<StatsOrder> Order(object? order)
    {
        var keys = new List<StatsOrder>();
        if (order is not IEnumerable items || order is string)
            return keys;
        foreach (var item in items.Cast<IDictionary<string, object?>>())
        {
            foreach (var (field, value) in item)
            {
                switch (field, value)
                {
                    case (_, null):
                        continue;
                    case ("count", string direction):
                        keys.Add(new StatsOrder("count", direction == "DESC"));
                        break;
                    case ("successRate", string direction):
                        keys.Add(new StatsOrder("success_rate", direction == "DESC"));
                        break;
                    case ("key", IDictionary<string, object?> key):
                        keys.AddRange(Nested(key, KeyColumns));
                        break;
                    case ("durationMs", IDictionary<string, object?> durations):
                        keys.AddRange(Nested(durations, DurationColumns));
                        break;
                    default:
                        throw QueryErrors.InvalidFilter($"statistics cannot be sorted by {field}");
                }
            }
        }
        return keys;
    }

    private static IEnumerable<StatsOrder> Nested(IDictionary<string, object?> input, IReadOnlyDictionary<string, string> columns) =>
        input.Where(p => p.Value is string).Select(p => columns.TryGetValue(p.Key, out var column)
            ? new StatsOrder(column, (string)p.Value! == "DESC")
            : throw QueryErrors.InvalidFilter($"statistics cannot be sorted by {p.Key}"));

    private static readonly Dictionary<string, string> KeyColumns = new(StringComparer.Ordinal)
    {
        ["workflowId"] = "g_workflow",
        ["channel"] = "g_channel",
        ["status"] = "g_status",
        ["nodeId"] = "g_node",
        ["bucketStart"] = "g_bucket",
    };

    private static readonly Dictionary<string, string> DurationColumns = new(StringComparer.Ordinal)
    {
        ["avg"] = "avg",
        ["min"] = "lo",
        ["max"] = "hi",
        ["p50"] = "p50",
        ["p90"] = "p90",
        ["p95"] = "p95",
        ["p99"] = "p99",
    };
}
