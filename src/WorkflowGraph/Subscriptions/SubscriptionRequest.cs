using WorkflowGraph.Database;

namespace WorkflowGraph.Subscriptions;

/// <summary>
/// What one subscription asks for: the events of its organisation that pass <see cref="Filter"/> (for runs: whose run
/// is in one of <see cref="TraceStatuses"/>, when given), each as the JSON of <see cref="Shape"/>. <see cref="Reader"/>: who
/// subscribed, for the PHI access records of what is delivered unmasked (needed when the shape has audited fields).
/// </summary>
internal sealed record SubscriptionRequest(Guid OrgId, FeedShape Shape, EventFilter Filter, IReadOnlyList<string>? TraceStatuses,
    PhiAccessReader? Reader = null);
