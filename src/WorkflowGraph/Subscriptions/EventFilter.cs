namespace WorkflowGraph.Subscriptions;

/// <summary>Which events a subscription wants; every given part must match.</summary>
public sealed record EventFilter(long? TraceId, Guid? WorkflowId, IReadOnlyList<string>? EventTypes)
{
    public static readonly EventFilter All = new(null, null, null);

    public bool Matches(EventLogRow row) =>
        (TraceId is null || row.TraceId == TraceId) && (WorkflowId is null || row.WorkflowId == WorkflowId)
        && (EventTypes is null || EventTypes.Contains(row.EventType));
}
