using WorkflowGraph.Querying.Plans;
using WorkflowGraph.Querying.Selection;

namespace WorkflowGraph.Analytics.Stats;

public enum StatsDimension { Workflow, Channel, Status, Node, Bucket }

/// <summary>One <c>order</c> entry: a key dimension or a measure (its column in the statement), and its direction.</summary>
public sealed record StatsOrder(string Column, bool Descending);

/// <summary>The time bucket: a <c>date_trunc</c> unit and an IANA zone.</summary>
public sealed record StatsBucket(string Unit, string TimeZone);

/// <summary>
/// The whole UTC days [<paramref name="From"/>, <paramref name="To"/>) of a window [<paramref name="WindowFrom"/>,
/// <paramref name="WindowTo"/>) that the daily rollups answer; the hours before and after them come from the hourly ones.
/// <see cref="Weeks"/>: the whole UTC weeks among those days that the folded weekly rows answer (db/migrations/054).
/// </summary>
public sealed record StatsDays(
    DateTime WindowFrom, DateTime From, DateTime To, DateTime WindowTo, (DateTime From, DateTime To)? Weeks = null);

/// <summary>
/// A statistics field read and checked: what to count, the condition (for the rollup, rewritten over its columns), the
/// groups, the page and where the answer comes from (<see cref="FromRollups"/>; else <see cref="RawReason"/> says why),
/// which of its days the daily rollups can answer (<see cref="Days"/>, null: the hourly rows answer all of it), and the
/// set of folded rollup rows that answers it (<see cref="Folded"/>, the set's <c>kept</c>; null: the rows per status).
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
    bool CountsTotal,
    StatsDays? Days = null,
    int? Folded = null)
{
    public bool FromRollups => RollupWhere is not null;
}
