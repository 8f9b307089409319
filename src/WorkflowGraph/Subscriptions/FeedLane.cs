using System.Threading.Channels;
using Npgsql;

namespace WorkflowGraph.Subscriptions;

/// <summary>
/// Where one heavy selection (<see cref="FeedShape.Heavy"/>) of an organisation's feed is built: the feed's read hands
/// it each batch of events with the subscribers that were there at that read, and the lane builds the selection's JSON
/// for those rows in a statement of its own, under a time budget, and delivers it to them in order. So a heavy
/// selection holds neither the feed's read (the light selections are delivered as soon as it returns) nor another
/// heavy selection. Bounds: the events waiting for the lane (<see cref="SubscriptionOptions.SubscriptionReplayBacklog"/>)
/// and the budget of one statement (<see cref="SubscriptionOptions.SubscriptionBuildTimeoutSeconds"/>); past either, the
/// selection's subscriptions end with SUBSCRIPTION_EVENT_TOO_COSTLY and the others go on.
/// </summary>
internal sealed class FeedLane
{
    /// <summary>Attempts at one batch when building it fails for another reason than its budget (a lost connection).</summary>
    private const int Attempts = 3;

    private readonly Guid _orgId;
    private readonly FeedShape _shape;
    private readonly EventLogReader _reader;
    private readonly SubscriptionOptions _options;
    private readonly SemaphoreSlim _building;
    private readonly ILogger _logger;
    private readonly Channel<Work> _work = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _closing;
    private readonly CancellationToken _closingToken;
    private int _waiting;
    private int _closed;

    private sealed record Work(EventPosition From, EventLogBatch Batch, FeedAudience Subscribers);

    /// <param name="building">Shared by the lanes of one feed: how many of them may run a statement at once.</param>
    public FeedLane(Guid orgId, FeedShape shape, EventLogReader reader, SubscriptionOptions options, SemaphoreSlim building,
        ILogger logger, CancellationToken stopping)
    {
        _orgId = orgId;
        _shape = shape;
        _reader = reader;
        _options = options;
        _building = building;
        _logger = logger;
        _closing = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _closingToken = _closing.Token; // taken now: Close disposes the source
        _ = Task.Run(RunAsync, CancellationToken.None); // the loop watches the closing token itself
    }

    /// <summary>Events handed to the lane and not yet built and delivered.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>
    /// Queues a batch the feed read from <paramref name="from"/> for <paramref name="subscribers"/> (this selection's, at
    /// that read). Past the bound of waiting events they are ended instead (outside the feed's lock: they leave it).
    /// </summary>
    public void Post(EventPosition from, EventLogBatch batch, FeedAudience subscribers)
    {
        if (Interlocked.Add(ref _waiting, batch.Rows.Count) > _options.SubscriptionReplayBacklog)
        {
            Interlocked.Add(ref _waiting, -batch.Rows.Count);
            End(subscribers.All, "The selection's events could not be built as fast as they arrived");
            return;
        }
        if (!_work.Writer.TryWrite(new Work(from, batch, subscribers)))
            Interlocked.Add(ref _waiting, -batch.Rows.Count); // closed: its subscribers have left
    }

    /// <summary>Stops the lane (its last subscriber left): what is queued is dropped, a statement running is cancelled.</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
            return;
        _work.Writer.TryComplete();
        _closing.Cancel();
        _closing.Dispose();
    }

    private async Task RunAsync()
    {
        var token = _closingToken;
        try
        {
            await foreach (var work in _work.Reader.ReadAllAsync(token))
            {
                // a batch whose subscribers all ended (too costly, or gone) is not built
                if (work.Subscribers.All.Any(s => !s.Ended))
                    await BuildAsync(work, token);
                Interlocked.Add(ref _waiting, -work.Batch.Rows.Count);
            }
        }
        catch (Exception) when (token.IsCancellationRequested)
        {
            // closed or stopping: whatever the cancelled statement threw
        }
    }

    private async Task BuildAsync(Work work, CancellationToken token)
    {
        var budget = TimeSpan.FromSeconds(_options.SubscriptionBuildTimeoutSeconds);
        var backoff = new ReconnectBackoff();
        for (var attempt = 1; ; attempt++)
        {
            EventLogBatch? built = null;
            Exception? failure = null;
            await _building.WaitAsync(token);
            try
            {
                built = await _reader.BuildAsync(_orgId, work.From, work.Batch, [_shape], budget, token);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.QueryCanceled && !token.IsCancellationRequested)
            {
                _logger.LogWarning("A selection of organisation {Org} took longer than {Budget} s to build for {Events} events",
                    _orgId, budget.TotalSeconds, work.Batch.Rows.Count);
                End(work.Subscribers.All, $"Building the selection for {work.Batch.Rows.Count} events took longer than its budget of " +
                    $"{budget.TotalSeconds:0.###} s");
                return;
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                failure = e;
            }
            finally
            {
                _building.Release();
            }
            if (built is not null)
            {
                work.Subscribers.Distribute(built.Rows, [_shape]);
                return;
            }
            if (attempt == Attempts)
            {
                // ends them as any failure while delivering does (logged, not shown): they resume from their cursor
                foreach (var subscriber in work.Subscribers.All)
                    subscriber.Abort(failure!);
                return;
            }
            _logger.LogWarning(failure, "Building a selection of organisation {Org} failed; retrying", _orgId);
            await Task.Delay(backoff.Next(), token);
        }
    }

    private static void End(Subscriber[] subscribers, string why)
    {
        foreach (var subscriber in subscribers)
            subscriber.End(new SubscriptionEndedException(
                why + "; select less, then resubscribe from the last cursor received.")
            {
                Code = Subscriber.EventTooCostlyCode,
            });
    }
}
