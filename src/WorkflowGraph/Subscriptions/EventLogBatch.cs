namespace WorkflowGraph.Subscriptions;

/// <summary>Rows in delivery order, the position after them, and whether reading on from it may find more right away.</summary>
public sealed record EventLogBatch(IReadOnlyList<EventLogRow> Rows, EventPosition Next, bool More)
{
    /// <summary>The snapshot the read saw (or its bound): what a lane building the same rows reads up to.</summary>
    public PgSnapshot? At { get; init; }
}
