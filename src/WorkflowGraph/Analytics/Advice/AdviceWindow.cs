using WorkflowGraph.Analytics.Stats;
using WorkflowGraph.Querying;

namespace WorkflowGraph.Analytics.Advice;

/// <summary>A window of whole UTC hours (the rollups' grain), checked against <see cref="QueryLimits.MaxStatsWindowDays"/>.</summary>
public sealed record AdviceWindow(DateTime From, DateTime To)
{
    /// <summary>The <c>window</c> argument widened to whole hours, or the <paramref name="defaultDays"/> up to the next hour.</summary>
    public static AdviceWindow Read(object? argument, QueryLimits limits, TimeProvider time, int defaultDays)
    {
        DateTime from, to;
        if (argument is IDictionary<string, object?> input && input["from"] is { } start && input["to"] is { } end)
        {
            from = StatsPlanner.Utc(start);
            to = StatsPlanner.Utc(end);
            if (to <= from)
                throw StatsErrors.EmptyWindow();
        }
        else
        {
            to = time.GetUtcNow().UtcDateTime;
            from = to.AddDays(-defaultDays);
        }
        from = new DateTime(from.Ticks - from.Ticks % TimeSpan.TicksPerHour, DateTimeKind.Utc);
        to = to.Ticks % TimeSpan.TicksPerHour == 0 ? to : new DateTime(to.Ticks - to.Ticks % TimeSpan.TicksPerHour + TimeSpan.TicksPerHour,
            DateTimeKind.Utc);
        if ((to - from).TotalDays > limits.MaxStatsWindowDays)
            throw StatsErrors.WindowTooLarge((to - from).TotalDays, limits.MaxStatsWindowDays);
        return new AdviceWindow(from, to);
    }
}
