using System.Collections.Concurrent;
using System.Text.Json;
using Npgsql;
using WorkflowGraph.Database;

namespace WorkflowGraph.Subscriptions;

/// <summary>The <c>GraphQL:*</c> settings of live delivery (defaults documented in the README).</summary>
public sealed class EventFeedOptions
{
    /// <summary>Events one feed statement reads at most; a larger backlog is read in several statements.</summary>
    public int SubscriptionBatchSize { get; set; } = 500;

    /// <summary>How often every organisation's feed is read even without a notification (a backstop, not the path).</summary>
    public double SubscriptionPollSeconds { get; set; } = 5;

    /// <summary>Events a subscriber may have waiting while its replay runs; beyond it the subscription ends with an error.</summary>
    public int SubscriptionReplayBacklog { get; set; } = 10_000;
}

/// <summary>
/// Live events for every subscriber of this instance: one LISTEN connection wakes one feed per organisation with
/// subscribers; each feed reads what committed since its position, as that tenant, in one statement that also
/// builds each subscribed selection's JSON, and hands every event to the tenant's matching subscribers. NOTIFY only
/// says "look": what is read is decided by the feed's position, so a lost notification (a dropped LISTEN
/// connection, a restart) delays events but never loses them.
/// </summary>
public sealed class EventHub(EventLogReader feed, DatabaseConnections connections, EventFeedOptions options, ILogger<EventHub> logger)
    : BackgroundService
{
    public const string Channel = "workflow_events";

    private readonly ConcurrentDictionary<Guid, OrgFeed> _feeds = new();
    private readonly Lock _feedsGate = new();
    private CancellationToken _stopping;

    internal EventLogReader Feed => feed;
    internal EventFeedOptions Options => options;
    internal ILogger Logger => logger;
    internal CancellationToken Stopping => _stopping;

    /// <summary>Whether this instance has a live feed for the organisation (one exists while it has subscribers).</summary>
    public bool Follows(Guid orgId) => _feeds.ContainsKey(orgId);

    /// <summary>Whether the LISTEN connection is up (for health reporting and tests).</summary>
    public bool Listening { get; private set; }

    /// <summary>Raised each time the LISTEN connection is (re-)established.</summary>
    public event Action? Connected;

    /// <summary>
    /// A stream of the JSON of <paramref name="shape"/> for each matching event of <paramref name="orgId"/> (or each
    /// run changed, for a trace shape). With <paramref name="after"/>, what lies after that position is replayed
    /// first, then the stream goes live without a gap or a repeat.
    /// </summary>
    public IObservable<object?> Stream(Guid orgId, FeedShape shape, EventFilter filter, IReadOnlyList<string>? traceStatuses, EventPosition? after) =>
        new HubStream(this, orgId, shape, filter, traceStatuses, after);

    /// <returns>The feed joined and its position at that moment: the subscriber receives every batch read after it.</returns>
    internal async Task<(OrgFeed Feed, PgSnapshot Position)> JoinAsync(Subscriber subscriber, PgSnapshot? atLeast)
    {
        while (true)
        {
            OrgFeed orgFeed;
            lock (_feedsGate)
                orgFeed = _feeds.GetOrAdd(subscriber.OrgId, org => new OrgFeed(this, org));
            if (await orgFeed.AddAsync(subscriber, atLeast) is { } position)
                return (orgFeed, position);
            // the feed closed (its last subscriber left) between lookup and join: take a fresh one
        }
    }

    internal void Remove(OrgFeed orgFeed)
    {
        lock (_feedsGate)
            _feeds.TryRemove(new KeyValuePair<Guid, OrgFeed>(orgFeed.OrgId, orgFeed));
    }

    /// <summary>Makes every feed read now (after a reconnect, on the poll tick, and in tests).</summary>
    public void WakeAll()
    {
        foreach (var orgFeed in _feeds.Values)
            orgFeed.Wake();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        var backoff = new ReconnectBackoff();
        var poll = TimeSpan.FromSeconds(Math.Max(0.1, options.SubscriptionPollSeconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var builder = new NpgsqlConnectionStringBuilder(connections.App) { KeepAlive = 10, Pooling = false };
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                connection.Notification += (_, e) => OnNotification(e.Payload);
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                Listening = true;
                backoff.Reset();
                logger.LogInformation("Listening for {Channel} notifications", Channel);
                // whatever committed while nobody listened is read now, from each feed's position
                WakeAll();
                Connected?.Invoke();
                // the backstop runs on its own clock: notifications of busy organisations must not starve it
                var lastPoll = DateTime.UtcNow;
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(poll, stoppingToken);
                    if (DateTime.UtcNow - lastPoll >= poll)
                    {
                        WakeAll();
                        lastPoll = DateTime.UtcNow;
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                Listening = false;
                var delay = backoff.Next();
                logger.LogWarning(e, "The {Channel} listener lost its connection; reconnecting in {Delay} ms", Channel, delay.TotalMilliseconds);
                try
                {
                    await Task.Delay(delay, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        Listening = false;
    }

    private void OnNotification(string payload)
    {
        // {"id":..,"trace_id":..,"org_id":"..","type":".."}: only the organisation matters here
        try
        {
            using var document = JsonDocument.Parse(payload);
            if (document.RootElement.TryGetProperty("org_id", out var org) && org.TryGetGuid(out var orgId)
                && _feeds.TryGetValue(orgId, out var orgFeed))
                orgFeed.Wake();
        }
        catch (JsonException)
        {
            WakeAll();
        }
    }
}

/// <summary>
/// One organisation's live feed: its position, its subscribers and the selections they share. Reads run one at
/// a time; a subscriber joins between two reads, so it receives every batch read after its position was fixed.
/// </summary>
internal sealed class OrgFeed
{
    private readonly EventHub _hub;
    private readonly SemaphoreSlim _reading = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly List<Subscriber> _subscribers = [];
    private readonly Dictionary<string, (FeedShape Shape, int Count)> _shapes = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private EventPosition? _position;
    private bool _closed;

    public OrgFeed(EventHub hub, Guid orgId)
    {
        _hub = hub;
        OrgId = orgId;
        _ = Task.Run(RunAsync);
    }

    public Guid OrgId { get; }

    public void Wake()
    {
        try
        {
            if (_wake.CurrentCount == 0)
                _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // already awake
        }
    }

    /// <summary>
    /// Joins between two reads, at a complete position that shows at least <paramref name="atLeast"/> (reading once
    /// more first when needed), so that a replay up to that position and the batches after it fit exactly.
    /// </summary>
    /// <returns>The position joined at; null when this feed closed before the subscriber could join.</returns>
    public async Task<PgSnapshot?> AddAsync(Subscriber subscriber, PgSnapshot? atLeast)
    {
        try
        {
            await _reading.WaitAsync(subscriber.Cancellation);
        }
        catch (OperationCanceledException)
        {
            CloseIfUnused();
            throw;
        }
        try
        {
            lock (_gate)
                if (_closed)
                    return null;
            if (_position is null)
                _position = await _hub.Feed.CurrentAsync(subscriber.Cancellation);
            else if (!_position.IsComplete || (atLeast is not null && !_position.Since.Includes(atLeast)))
                await ReadCoreAsync(subscriber.Cancellation);
            lock (_gate)
            {
                if (_closed)
                    return null;
                if (atLeast is not null && !_position.Since.Includes(atLeast))
                    throw new SubscriptionEndedException("after is a cursor from beyond the end of the event log.");
                _subscribers.Add(subscriber);
                var key = subscriber.Shape.Key;
                _shapes[key] = (_shapes.TryGetValue(key, out var entry) ? entry.Shape : subscriber.Shape, entry.Count + 1);
                return _position.Since;
            }
        }
        catch
        {
            // a feed nobody joined must not stay behind reading for no one
            CloseIfUnused();
            throw;
        }
        finally
        {
            _reading.Release();
        }
    }

    private void CloseIfUnused()
    {
        lock (_gate)
        {
            if (_subscribers.Count > 0 || _closed)
                return;
            _closed = true;
        }
        _hub.Remove(this);
        Wake();
    }

    public void Remove(Subscriber subscriber)
    {
        lock (_gate)
        {
            if (!_subscribers.Remove(subscriber))
                return;
            var key = subscriber.Shape.Key;
            var entry = _shapes[key];
            if (entry.Count == 1)
                _shapes.Remove(key);
            else
                _shapes[key] = (entry.Shape, entry.Count - 1);
            if (_subscribers.Count > 0)
                return;
            _closed = true;
        }
        _hub.Remove(this);
        Wake(); // lets the loop see that it is closed
    }

    private async Task RunAsync()
    {
        var backoff = new ReconnectBackoff();
        while (true)
        {
            try
            {
                await _wake.WaitAsync(_hub.Stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            lock (_gate)
                if (_closed)
                    return;
            try
            {
                await ReadAllAsync();
                backoff.Reset();
            }
            catch (Exception e) when (!_hub.Stopping.IsCancellationRequested)
            {
                // the position did not move: the next read (retried here, or woken by the listener) catches up
                var delay = backoff.Next();
                _hub.Logger.LogWarning(e, "Reading the event feed of organisation {Org} failed; retrying in {Delay} ms", OrgId, delay.TotalMilliseconds);
                try
                {
                    await Task.Delay(delay, _hub.Stopping);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                Wake();
            }
            catch (Exception)
            {
                return;
            }
        }
    }

    private async Task ReadAllAsync()
    {
        await _reading.WaitAsync(_hub.Stopping);
        try
        {
            await ReadCoreAsync(_hub.Stopping);
        }
        finally
        {
            _reading.Release();
        }
    }

    /// <summary>Reads and distributes until the position is complete again; the caller holds <see cref="_reading"/>.</summary>
    private async Task ReadCoreAsync(CancellationToken cancellationToken)
    {
        EventLogBatch batch;
        do
        {
            FeedShape[] shapes;
            Subscriber[] subscribers;
            lock (_gate)
            {
                if (_closed || _position is null) // closed, or woken before its first subscriber fixed a position
                    return;
                shapes = _shapes.Values.Select(s => s.Shape).ToArray();
                subscribers = [.. _subscribers];
            }
            batch = await _hub.Feed.ReadAsync(OrgId, _position!, EventFilter.All, shapes, _hub.Options.SubscriptionBatchSize, cancellationToken);
            if (batch.Rows.Count > 0)
                Distribute(batch.Rows, shapes, subscribers);
            _position = batch.Next;
        } while (batch.More);
    }

    /// <summary>Hands each subscriber its part of the batch, in order: a run's followers are found by its id, not by asking everyone.</summary>
    private static void Distribute(IReadOnlyList<EventLogRow> rows, FeedShape[] shapes, Subscriber[] subscribers)
    {
        var shapeIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < shapes.Length; i++)
            shapeIndex[shapes[i].Key] = i;
        var byRun = new Dictionary<long, List<Subscriber>>();
        var others = new List<Subscriber>();
        foreach (var subscriber in subscribers)
            if (subscriber.TraceId is { } traceId)
                (byRun.TryGetValue(traceId, out var list) ? list : byRun[traceId] = []).Add(subscriber);
            else
                others.Add(subscriber);

        var mine = new Dictionary<Subscriber, List<EventLogRow>>(ReferenceEqualityComparer.Instance);
        void Add(Subscriber subscriber, EventLogRow row) =>
            (mine.TryGetValue(subscriber, out var list) ? list : mine[subscriber] = []).Add(row);
        foreach (var row in rows)
        {
            if (byRun.TryGetValue(row.TraceId, out var followers))
                foreach (var subscriber in followers)
                    Add(subscriber, row);
            foreach (var subscriber in others)
                Add(subscriber, row);
        }
        foreach (var (subscriber, part) in mine)
        {
            try
            {
                subscriber.Deliver(part, shapeIndex[subscriber.Shape.Key]);
            }
            catch (Exception e)
            {
                // one subscriber's failure must not make the feed read (and send) the batch again to the others
                subscriber.Abort(e);
            }
        }
    }
}
