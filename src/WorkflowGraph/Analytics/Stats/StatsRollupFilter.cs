using WorkflowGraph.Querying.Plans;

namespace WorkflowGraph.Analytics.Stats;

/// <summary>
/// Whether the hourly rollups can answer a <c>where</c>, and the same condition over the rollup's columns. A rollup row
/// has the columns a filter may name (workflow, channel, node, status, organisation) under the raw names, and its
/// start_time is the hour: for an hour-aligned t, a row's start_time &gt;= t (or &lt; t) exactly when its hour's is,
/// so those bounds carry over; any other condition needs the raw rows.
/// </summary>
public static class StatsRollupFilter
{
    /// <summary>Null when the rollups can answer (<paramref name="rewritten"/> is the condition); else why not.</summary>
    public static string? Rewrite(StatsSubject subject, Filter where, out Filter? rewritten)
    {
        string? reason = null;
        rewritten = Visit(where, subject.RollupColumns, subject, ref reason);
        if (reason is not null)
            rewritten = null;
        return reason;
    }

    /// <summary>
    /// Whether the daily rollups answer the condition exactly on the days inside its window: every startTime bound
    /// below the top level is on a UTC midnight (a top-level bound is the window's, or lies beyond it).
    /// </summary>
    public static bool DayAligned(Filter rollupWhere) => Aligned(rollupWhere, at => at.Ticks % TimeSpan.TicksPerDay == 0);

    /// <summary>Every startTime bound below the top level lies on a boundary of the longer rows (a UTC day, week).</summary>
    public static bool Aligned(Filter rollupWhere, Func<DateTime, bool> boundary) =>
        TopLevel(rollupWhere).All(part => part is Comparison { Column.Column: "start_time" }
            || Bounds(part).All(bound => bound.Value is not null && boundary(StatsPlanner.Utc(bound.Value))));

    /// <summary>
    /// The first of the subject's folded sets (db/migrations/054; the smallest first) that keeps every dimension the plan
    /// groups by or the condition names, or null when the rows per status must answer: the plan groups by status, or
    /// the condition names status or a column no set keeps.
    /// </summary>
    public static int? FoldedSet(StatsSubject subject, IEnumerable<StatsDimension> dimensions, Filter rollupWhere)
    {
        var needed = 0;
        foreach (var dimension in dimensions)
        {
            switch (dimension)
            {
                case StatsDimension.Status:
                    return null;
                case StatsDimension.Workflow:
                    needed |= StatsSubject.KeepsWorkflow;
                    break;
                case StatsDimension.Channel:
                    needed |= StatsSubject.KeepsChannel;
                    break;
                case StatsDimension.Node:
                    needed |= StatsSubject.KeepsNode;
                    break;
            }
        }
        if (Kept(rollupWhere) is not { } named)
            return null;
        needed |= named;
        foreach (var set in subject.FoldedSets)
        {
            if ((set & needed) == needed)
                return set;
        }
        return null;
    }

    /// <summary>The dimensions a rewritten condition names, or null when it names one no folded row has.</summary>
    private static int? Kept(Filter filter)
    {
        var parts = filter switch
        {
            AllOf all => all.Parts,
            AnyOf any => any.Parts,
            _ => null,
        };
        if (parts is null)
        {
            return filter switch
            {
                Comparison comparison => Kept(comparison.Column.Column),
                Membership membership => Kept(membership.Column.Column),
                _ => null,
            };
        }
        var kept = 0;
        foreach (var part in parts)
        {
            if (Kept(part) is not { } named)
                return null;
            kept |= named;
        }
        return kept;
    }

    private static int? Kept(string column) => column switch
    {
        "org_id" or "start_time" => 0,
        "workflow_id" => StatsSubject.KeepsWorkflow,
        "channel" => StatsSubject.KeepsChannel,
        "node_id" => StatsSubject.KeepsNode,
        _ => null,
    };

    private static IEnumerable<Filter> TopLevel(Filter filter) => filter is AllOf all ? all.Parts.SelectMany(TopLevel) : [filter];

    private static IEnumerable<Comparison> Bounds(Filter filter) => filter switch
    {
        AllOf all => all.Parts.SelectMany(Bounds),
        AnyOf any => any.Parts.SelectMany(Bounds),
        RelatedRows related => Bounds(related.Condition),
        Comparison { Column.Column: "start_time" } bound => [bound],
        _ => [],
    };

    private static Filter Visit(Filter filter, IReadOnlySet<string> columns, StatsSubject subject, ref string? reason)
    {
        switch (filter)
        {
            case AllOf all:
                {
                    var parts = new List<Filter>();
                    foreach (var part in all.Parts)
                        parts.Add(Visit(part, columns, subject, ref reason));
                    return new AllOf(parts);
                }
            case AnyOf any:
                {
                    var parts = new List<Filter>();
                    foreach (var part in any.Parts)
                        parts.Add(Visit(part, columns, subject, ref reason));
                    return new AnyOf(parts);
                }
            case Comparison { Column.Column: "start_time" } bound:
                if (bound.Operator is not (ComparisonOperator.Gte or ComparisonOperator.Lt) || bound.Value is null)
                    reason ??= "startTime is bounded with an operator other than gte and lt";
                else if (StatsPlanner.Utc(bound.Value).Ticks % TimeSpan.TicksPerHour != 0)
                    reason ??= "a startTime bound is not on a whole hour (UTC)";
                return filter;
            case Comparison comparison when columns.Contains(comparison.Column.Column):
                return filter;
            case Membership membership when columns.Contains(membership.Column.Column):
                return filter;
            case RelatedRows { Relation.Field: "trace", Negate: false, Every: false } run when subject.HasNodes:
                // a step has exactly one run, whose workflow and channel the step rollup carries
                return Visit(run.Condition, StatsSubject.RunColumnsOfSteps, subject, ref reason);
            case Comparison or Membership or PatternMatch:
                reason ??= $"the filter on {Field(filter)} needs the raw rows";
                return filter;
            default:
                reason ??= "a filter on related rows needs the raw rows";
                return filter;
        }
    }

    private static string Field(Filter filter) => filter switch
    {
        Comparison c => c.Column.Field,
        Membership m => m.Column.Field,
        PatternMatch p => p.Column.Field,
        _ => "?",
    };
}
