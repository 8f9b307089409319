using GraphQL;

namespace WorkflowGraph.Analytics.Stats;

/// <summary>Refusals of a statistics field, each before any SQL runs but <see cref="TooManyCells"/>.</summary>
public static class StatsErrors
{
    public static ExecutionError WindowRequired(string field) => new(
        $"{field} needs a window: where.startTime with gte (or gt) and lt (or lte) at the top level of where")
    {
        Code = "STATS_WINDOW_REQUIRED",
    };

    public static ExecutionError EmptyWindow() => new("the window's to must be after its from") { Code = "STATS_WINDOW_REQUIRED" };

    public static ExecutionError WindowTooLarge(double days, int maximum) => new(
        $"the window spans {days:0.#} days, more than the {maximum} allowed (GraphQL:MaxStatsWindowDays)")
    {
        Code = "STATS_WINDOW_TOO_LARGE",
    };

    public static ExecutionError TooManyGroups(long buckets, int maximum) => new(
        $"the bucket would split the window into up to {buckets} groups, more than the {maximum} allowed " +
        "(GraphQL:MaxStatsBuckets); choose a longer unit or a shorter window")
    {
        Code = "STATS_TOO_MANY_GROUPS",
    };

    /// <summary>Raised while the cells are read: the groups the window's rows fall into, not the buckets, passed the bound.</summary>
    public static ExecutionError TooManyCells(int maximum) => new(
        $"the rows fall into more than the {maximum} groups allowed (GraphQL:MaxStatsGroups); " +
        "group by fewer keys, choose a longer unit or a shorter window, or filter")
    {
        Code = "STATS_TOO_MANY_GROUPS",
    };

    public static ExecutionError UnknownTimeZone(string zone) => new(
        $"\"{(zone.Length > 60 ? zone[..60] + "…" : zone)}\" is not an IANA time zone name (such as America/Chicago or UTC)")
    {
        Code = "INVALID_TIME_ZONE",
    };

    public static ExecutionError InvalidGroupBy(string message) => new(message) { Code = "INVALID_GROUP_BY" };
}
