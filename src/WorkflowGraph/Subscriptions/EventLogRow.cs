using WorkflowGraph.Querying;

namespace WorkflowGraph.Subscriptions;

/// <summary>
/// One event as the reader read it: what subscribers are matched on (its run, the run's workflow, status and channel) and the
/// JSON of each shape the statement was asked for, in the order of those shapes (null: nothing to send for it); when it
/// was written (its transaction's start) for the feed's lag; for each audited shape (<see cref="FeedShape.AuditedFields"/>),
/// the runs its JSON shows (null for the others).
/// </summary>
public sealed record EventLogRow(long Id, long TraceId, Guid WorkflowId, string EventType, string TraceStatus, DateTime WrittenAt,
    RawJson?[] Shapes, string TraceChannel = "")
{
    public long[]?[] Runs { get; init; } = [];
}
