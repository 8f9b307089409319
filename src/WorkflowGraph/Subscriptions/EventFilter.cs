namespace WorkflowGraph.Subscriptions;

/// <summary>
/// Which events a subscription wants; every given part must match. <see cref="WorkflowIds"/> and <see cref="Channels"/>
/// (a run of one of these workflows, on one of these channels) are matched on the live feed only, not in a replay's SQL.
/// </summary>
public sealed record EventFilter(long? TraceId, Guid? WorkflowId, IReadOnlyList<string>? EventTypes,
    IReadOnlyList<Guid>? WorkflowIds = null, IReadOnlyList<string>? Channels = null)
{
    public static readonly EventFilter All = new(null, null, null);

    public bool Matches(EventLogRow row) =>
        (TraceId is null || row.TraceId == TraceId) && (WorkflowId is null || row.WorkflowId == WorkflowId)
        && (EventTypes is null || EventTypes.Contains(row.EventType))
        && (WorkflowIds is null || WorkflowIds.Contains(row.WorkflowId)) && (Channels is null || Channels.Contains(row.TraceChannel));
}
