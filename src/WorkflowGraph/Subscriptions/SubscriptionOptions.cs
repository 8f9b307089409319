namespace WorkflowGraph.Subscriptions;

/// <summary>The <c>GraphQL:*</c> settings of live delivery (defaults documented in the README).</summary>
public sealed class SubscriptionOptions
{
    /// <summary>Events one read of the event log returns at most; a larger backlog is read in several statements.</summary>
    public int SubscriptionBatchSize { get; set; } = 500;

    /// <summary>How often every organisation's feed is read even without a notification (a backstop, not the path).</summary>
    public double SubscriptionPollSeconds { get; set; } = 5;

    /// <summary>Events a subscriber may have waiting while its replay runs; beyond it the subscription ends with an error.</summary>
    public int SubscriptionReplayBacklog { get; set; } = 10_000;
}
