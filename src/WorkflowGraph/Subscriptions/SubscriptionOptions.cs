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

    /// <summary>
    /// The largest JSON of one event for one subscription, in bytes; a subscription whose selection builds a larger one
    /// ends with SUBSCRIPTION_EVENT_TOO_LARGE (the others go on). 0: no bound.
    /// </summary>
    public long MaxSubscriptionEventBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// The time budget of one statement that builds a heavy selection for a batch of events; over it, that selection's
    /// subscriptions end with SUBSCRIPTION_EVENT_TOO_COSTLY (the feed and the other selections go on).
    /// </summary>
    public double SubscriptionBuildTimeoutSeconds { get; set; } = 5;
}
