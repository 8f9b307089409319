using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using WorkflowGraph.Database;
using WorkflowGraph.Hosting;
using WorkflowGraph.RateLimiting;

namespace WorkflowGraph.Subscriptions;

/// <summary>
/// The live feeds of this instance, one per organisation with subscribers here: a subscription joins its
/// organisation's feed (made at the first join, dropped when it closes), and the listener wakes them.
/// </summary>
public sealed class FeedRegistry(EventLogReader reader, SubscriptionOptions options, ILoggerFactory loggers,
    ShutdownDrain shutdown, OrganisationLimiter limiter, PhiAccessAuditor auditor)
{
    private readonly ConcurrentDictionary<Guid, OrganisationFeed> _feeds = new();
    private readonly Lock _feedsGate = new();
    private readonly ILogger _feedLogger = loggers.CreateLogger<OrganisationFeed>();
    private readonly ILogger _subscriberLogger = loggers.CreateLogger<Subscriber>();

    /// <summary>
    /// A stream of the JSON of <paramref name="shape"/> for each matching event of <paramref name="orgId"/> (or each
    /// run changed, for a trace shape). With <paramref name="after"/>, what lies after that position is replayed
    /// first, then the stream goes live without a gap or a repeat. When the shape shows classified fields unmasked, each
    /// event is delivered once its PHI access record, naming <paramref name="phiReader"/>, is written.
    /// </summary>
    public IObservable<object?> Stream(Guid orgId, FeedShape shape, EventFilter filter, IReadOnlyList<string>? traceStatuses,
        EventPosition? after, PhiAccessReader? phiReader = null)
    {
        if (shape.AuditedFields.Count > 0 && phiReader is null)
            throw new InvalidOperationException("a subscription that shows PHI unmasked needs its reader for the audit");
        var request = new SubscriptionRequest(orgId, shape, filter, traceStatuses, shape.AuditedFields.Count > 0 ? phiReader : null);
        return new SubscriptionStream(
            observer => new Subscriber(request, observer, this, reader, options, limiter, auditor, _subscriberLogger), after);
    }

    /// <returns>The feed joined and its position at that moment: the subscriber receives every batch read after it.</returns>
    internal async Task<(OrganisationFeed Feed, PgSnapshot Position)> JoinAsync(Subscriber subscriber, PgSnapshot? atLeast)
    {
        while (true)
        {
            OrganisationFeed feed;
            lock (_feedsGate)
                feed = _feeds.GetOrAdd(subscriber.OrgId,
                    org => new OrganisationFeed(org, reader, options, _feedLogger, OnClosed, shutdown.Closing));
            if (await feed.JoinAsync(subscriber, atLeast) is { } position)
                return (feed, position);
            // the feed closed (its last subscriber left) between lookup and join: take a fresh one
        }
    }

    /// <summary>The organisation's feed, when this instance has one (it has while the organisation has subscribers here).</summary>
    internal bool TryGet(Guid orgId, [MaybeNullWhen(false)] out OrganisationFeed feed) => _feeds.TryGetValue(orgId, out feed);

    /// <summary>Makes every feed read now (after the listener connected, and on the poll tick).</summary>
    public void WakeAll()
    {
        foreach (var feed in _feeds.Values)
            feed.Wake();
    }

    private void OnClosed(OrganisationFeed feed)
    {
        lock (_feedsGate)
            _feeds.TryRemove(new KeyValuePair<Guid, OrganisationFeed>(feed.OrgId, feed));
    }
}
