using GraphQL;

namespace WorkflowGraph.Subscriptions;

/// <summary>Why a stream ended early, in words for the client (the stream's last result carries it).</summary>
public sealed class SubscriptionEndedException(string message) : ExecutionError(message);
