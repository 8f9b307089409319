using WorkflowGraph.Querying.Model;

namespace WorkflowGraph.Querying.Plans;

/// <summary>
/// One connection field, planned: which rows (<paramref name="Where"/>), in which order, which page of them, the
/// object built for each place the node is selected, and whether cursors and the total are needed.
/// </summary>
public sealed record ConnectionPlan(
    EntityMap Entity,
    Filter? Where,
    IReadOnlyList<SortKey> Order,
    PageWindow Page,
    IReadOnlyList<NodeProjection> Projections,
    bool SelectsCursor,
    bool CountsTotal)
{
    /// <summary>The order cursors are made in and checked against.</summary>
    public string Signature { get; } = KeysetCursor.Signature(Order);

    /// <summary>The order rows are read in: a backward page reads the order reversed, from its cursor on.</summary>
    public IReadOnlyList<SortKey> ReadOrder => Page.Backwards ? Order.Select(k => k.Reversed()).ToList() : Order;

    public bool ReadsRows => Projections.Count > 0 || SelectsCursor;
}

/// <summary>
/// The page asked for: <paramref name="Size"/> rows (one more is read to know whether there are more), forwards
/// after a cursor or backwards before one; <paramref name="From"/> is that cursor's row, decoded.
/// </summary>
public sealed record PageWindow(int Size, bool Backwards, bool HasAfter, bool HasBefore, IReadOnlyList<object?>? From);

/// <summary>The node object for one place it is selected: <c>nodes/&lt;key&gt;</c> or <c>edges/&lt;key&gt;/&lt;key&gt;</c>.</summary>
public sealed record NodeProjection(string Path, ObjectShape Shape);
