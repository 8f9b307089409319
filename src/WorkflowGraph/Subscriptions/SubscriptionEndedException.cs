namespace WorkflowGraph.Subscriptions;

/// <summary>Why a stream ended early, in words for the client.</summary>
public sealed class SubscriptionEndedException(string message) : Exception(message);
