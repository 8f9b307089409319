using WorkflowGraph.Querying.Plans;
using WorkflowGraph.Querying.Selection;

namespace WorkflowGraph.Analytics.Stats;

public enum StatsDimension { Workflow, Channel, Status, Node, Bucket }

/// <summary>One <c>order</c> entry: a key dimension or a measure (its column in the statement), and its direction.</summary>
public sealed record StatsOrder(string Column, bool Descending);

/// <summary>The time bucket: a <c>date_trunc</c> unit and an IANA zone.</summary>
public sealed record StatsBucket(string Unit, string TimeZone);

/// <summary>
/// A statistics field read and checked: what to count, the condition (for the rollup, rewritten over its columns), the
/// groups, the page and where the answer comes from (<see cref="FromRollups"/>; else <see cref="RawReason"/> says why).
/// </summary>
public sealed record StatsPlan(
    StatsSubject Subject,
    Filter Where,
    Filter? RollupWhere,
    string? RawReason,
    IReadOnlyList<StatsDimension> Dimensions,
    StatsBucket? Bucket,
    IReadOnlyList<StatsOrder> Order,
    int First,
    long After,
    IReadOnlyList<(string Path, FieldSelection Node)> Projections,
    bool CountsTotal)
{
    public bool FromRollups => RollupWhere is not null;
}
