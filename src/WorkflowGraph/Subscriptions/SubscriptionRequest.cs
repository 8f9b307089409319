namespace WorkflowGraph.Subscriptions;

/// <summary>
/// What one subscription asks for: the events of its organisation that pass <see cref="Filter"/> (for runs: whose run
/// is in one of <see cref="TraceStatuses"/>, when given), each as the JSON of <see cref="Shape"/>.
/// </summary>
internal sealed record SubscriptionRequest(Guid OrgId, FeedShape Shape, EventFilter Filter, IReadOnlyList<string>? TraceStatuses);
