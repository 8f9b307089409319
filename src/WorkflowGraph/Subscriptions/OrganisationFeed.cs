using WorkflowGraph.Telemetry;

namespace WorkflowGraph.Subscriptions;

/// <summary>
/// One organisation's live feed on this instance: its position, its subscribers and the shapes they share. Woken, it
/// reads on from its position (one statement reads the events and builds every light shape's JSON) and hands each
/// subscriber of a light shape its part; each heavy shape (<see cref="FeedShape.Heavy"/>) has a <see cref="FeedLane"/>
/// that builds it for the same rows in a statement of its own, so a costly selection holds neither the read nor the
/// others. Reads run one at a time; a subscriber joins between two reads, so it receives every batch read after its
/// position was fixed (a lane's batch carries the subscribers of its read). A read that fails leaves the position where
/// it was and is retried with backoff. The feed closes when its last subscriber leaves (or when no one managed to join
/// it) and then stops reading.
/// </summary>
internal sealed class OrganisationFeed
{
    private readonly EventLogReader _reader;
    private readonly int _batchSize;
    private readonly ILogger _logger;
    private readonly Action<OrganisationFeed> _closed;
    private readonly CancellationToken _stopping;
    private readonly SemaphoreSlim _reading = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly List<Subscriber> _subscribers = [];
    private readonly Dictionary<string, (FeedShape Shape, int Count)> _shapes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FeedLane> _lanes = new(StringComparer.Ordinal);
    // how many of this feed's lanes may run a statement at once: heavy selections of one organisation take turns
    // rather than the connection pool
    private readonly SemaphoreSlim _building = new(LaneStatements, LaneStatements);
    private readonly SubscriptionOptions _options;
    private readonly Lock _gate = new();
    /// <summary>Statements the lanes of one feed run at once.</summary>
    public const int LaneStatements = 2;

    private EventPosition? _position;

    /// <summary>The last read was not full: the position is recent, and the next read takes the plan made once for
    /// recent positions (<see cref="EventLogReader.ReadAsync"/>); after a full one it is planned for its values until
    /// the backlog is read. Read and written by the reader holding <see cref="_reading"/>.</summary>
    private bool _caughtUp = true;
    private bool _isClosed;
    // who the next read hands its batch to: made again after a join or a leave (null until then), not per read
    private Audiences? _audiences;

    private sealed record Audiences(FeedShape[] Shapes, FeedAudience Light, (FeedLane Lane, FeedAudience Audience)[] Lanes);

    /// <param name="closed">Called once, when the feed closes (its registry forgets it).</param>
    /// <param name="stopping">Ends the reading loop when the application stops.</param>
    public OrganisationFeed(Guid orgId, EventLogReader reader, SubscriptionOptions options, ILogger logger,
        Action<OrganisationFeed> closed, CancellationToken stopping)
    {
        OrgId = orgId;
        _reader = reader;
        _batchSize = options.SubscriptionBatchSize;
        _options = options;
        _logger = logger;
        _closed = closed;
        _stopping = stopping;
        _ = Task.Run(RunAsync, CancellationToken.None); // the loop watches the stopping token itself
    }

    public Guid OrgId { get; }

    /// <summary>Events the lanes were handed and have not yet built and delivered (the tests wait for none).</summary>
    internal int LaneBacklog
    {
        get
        {
            lock (_gate)
                return _lanes.Values.Sum(l => l.Waiting);
        }
    }

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
    public async Task<PgSnapshot?> JoinAsync(Subscriber subscriber, PgSnapshot? atLeast)
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
                if (_isClosed)
                    return null;
            if (_position is null)
                _position = await _reader.CurrentAsync(subscriber.Cancellation);
            else if (!_position.IsComplete || (atLeast is not null && !_position.Since.Includes(atLeast)))
                await ReadCoreAsync(subscriber.Cancellation);
            lock (_gate)
            {
                if (_isClosed)
                    return null;
                if (atLeast is not null && !_position.Since.Includes(atLeast))
                    throw new SubscriptionEndedException("after is a cursor from beyond the end of the event log.");
                _subscribers.Add(subscriber);
                _audiences = null;
                var key = subscriber.Shape.Key;
                if (_shapes.TryGetValue(key, out var entry))
                    subscriber.Share(entry.Shape);
                _shapes[key] = (subscriber.Shape, entry.Count + 1);
                if (subscriber.Shape.Heavy && !_lanes.ContainsKey(key))
                    _lanes[key] = new FeedLane(OrgId, subscriber.Shape, _reader, _options, _building, _logger, _stopping);
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
            if (_subscribers.Count > 0 || _isClosed)
                return;
            _isClosed = true;
        }
        _closed(this);
        Wake(); // lets the loop see that it is closed
    }

    public void Leave(Subscriber subscriber)
    {
        FeedLane? unused = null;
        bool last;
        lock (_gate)
        {
            if (!_subscribers.Remove(subscriber))
                return;
            _audiences = null;
            var key = subscriber.Shape.Key;
            var entry = _shapes[key];
            if (entry.Count == 1)
            {
                _shapes.Remove(key);
                _lanes.Remove(key, out unused);
            }
            else
            {
                _shapes[key] = (entry.Shape, entry.Count - 1);
            }
            last = _subscribers.Count == 0;
            if (last)
                _isClosed = true;
        }
        // outside the lock: stopping a lane cancels its statement
        unused?.Close();
        if (!last)
            return;
        _closed(this);
        Wake(); // lets the loop see that it is closed
    }

    private async Task RunAsync()
    {
        var backoff = new ReconnectBackoff();
        while (true)
        {
            try
            {
                await _wake.WaitAsync(_stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            lock (_gate)
                if (_isClosed)
                    return;
            try
            {
                await ReadAllAsync();
                backoff.Reset();
            }
            catch (Exception e) when (!_stopping.IsCancellationRequested)
            {
                // the position did not move: the next read (retried here, or woken by the listener) catches up
                var delay = backoff.Next();
                _logger.LogWarning(e, "Reading the event feed of organisation {Org} failed; retrying in {Delay} ms", OrgId,
                    delay.TotalMilliseconds);
                try
                {
                    await Task.Delay(delay, _stopping);
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
        await _reading.WaitAsync(_stopping);
        try
        {
            await ReadCoreAsync(_stopping);
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
            Audiences audiences;
            lock (_gate)
            {
                if (_isClosed || _position is null) // closed, or woken before its first subscriber fixed a position
                    return;
                audiences = _audiences ??= new Audiences(
                    [.. _shapes.Values.Select(s => s.Shape).Where(s => !s.Heavy)],
                    new FeedAudience([.. _subscribers.Where(s => !s.Shape.Heavy)]),
                    [.. _lanes.Select(l => (l.Value, new FeedAudience([.. _subscribers.Where(s => s.Shape.Key == l.Key)])))]);
            }
            var from = _position!;
            batch = await _reader.ReadAsync(OrgId, from, EventFilter.All, audiences.Shapes, _batchSize, cancellationToken,
                recent: _caughtUp);
            _caughtUp = !batch.More;
            if (batch.Rows.Count > 0)
            {
                RecordLag(batch.Rows);
                audiences.Light.Distribute(batch.Rows, audiences.Shapes);
                foreach (var (lane, followers) in audiences.Lanes)
                    lane.Post(from, batch, followers);
            }
            _position = batch.Next;
        } while (batch.More);
    }

    private static void RecordLag(IReadOnlyList<EventLogRow> rows)
    {
        if (!ServiceTelemetry.FeedLag.Enabled)
            return;
        var now = DateTime.UtcNow;
        foreach (var row in rows)
            ServiceTelemetry.FeedLag.Record(Math.Max(0, (now - row.WrittenAt).TotalSeconds));
    }
}
