using Npgsql;
using WorkflowGraph.Database;
using WorkflowGraph.Querying;
using WorkflowGraph.RateLimiting;
using WorkflowGraph.Telemetry;

namespace WorkflowGraph.Subscriptions;

/// <summary>
/// One subscription. With a start position it joins the organisation's feed first (live batches wait), then replays
/// from the table exactly up to the position it joined at, then passes on the waiting batches and goes live: the
/// replay's last cursor and the first live batch meet at one snapshot, so the switch neither skips nor repeats an
/// event and every cursor handed out says exactly what was delivered. Deliveries are sequential and never block:
/// the observer (the transport) queues them.
/// </summary>
internal sealed class Subscriber(SubscriptionRequest request, IObserver<object?> observer, FeedRegistry feeds, EventLogReader reader,
    SubscriptionOptions options, OrganisationLimiter limiter, PhiAccessAuditor auditor, ILogger logger) : IDisposable
{
    /// <summary>The code of the error that ends a subscription whose selection built an event over the byte bound.</summary>
    public const string EventTooLargeCode = "SUBSCRIPTION_EVENT_TOO_LARGE";

    /// <summary>The code of the error that ends a subscription whose selection took longer to build than its budget.</summary>
    public const string EventTooCostlyCode = "SUBSCRIPTION_EVENT_TOO_COSTLY";

    // the feed's instance of an equal shape once joined (Share): the subscriber's own parsed selection is not kept
    private SubscriptionRequest _request = request;
    private readonly CancellationTokenSource _cancellation = new();
    private readonly Lock _gate = new();
    private List<(RawJson Json, long[]? Runs)>? _waiting;
    // events that show PHI unmasked, waiting for their audit records to be written before they are sent (in order);
    // made by the first such event
    private List<(RawJson Json, long[]? Runs)>? _auditing;
    private bool _draining;
    private OrganisationFeed? _feed;
    // this subscription's place among its organisation's open ones (RateLimits:SubscriptionsPerOrganisation)
    private IDisposable? _place;
    private bool _done;
    private bool _counted;

    public Guid OrgId => _request.OrgId;
    public FeedShape Shape => _request.Shape;

    /// <summary>The one run this subscriber follows, if its filter names one.</summary>
    public long? TraceId => _request.Filter.TraceId;
    public CancellationToken Cancellation => _cancellation.Token;

    /// <summary>The subscription ended (failed or disposed): nothing more is delivered to it.</summary>
    public bool Ended
    {
        get
        {
            lock (_gate)
                return _done;
        }
    }

    public async Task StartAsync(EventPosition? after)
    {
        if (limiter.TryOpenSubscription(OrgId, out _place) is { } refusal)
        {
            // never started: nothing to leave or count down
            lock (_gate) _done = true;
            observer.OnError(new RateLimitedException(refusal));
            return;
        }
        // counted down once, by whichever of Fail and Dispose ends it first, and only if counted up here (a
        // Dispose that came first leaves it uncounted)
        lock (_gate)
        {
            if (!_done)
            {
                _counted = true;
                ServiceTelemetry.SubscriptionStarted();
            }
        }
        try
        {
            if (after is not null)
                _waiting = [];
            (_feed, var joinedAt) = await feeds.JoinAsync(this, after?.Upto);
            if (_done)
            {
                _feed.Leave(this);
                return;
            }
            if (after is not null)
                await ReplayAsync(after, joinedAt);
        }
        catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
        {
        }
        catch (SubscriptionEndedException e)
        {
            Fail(e);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.QueryCanceled && !_cancellation.IsCancellationRequested)
        {
            Fail(new SubscriptionEndedException(
                "Building the selection for the events to replay took longer than its budget of " +
                $"{options.SubscriptionBuildTimeoutSeconds} s; " +
                "select less, then resubscribe from the last cursor received.")
            {
                Code = EventTooCostlyCode,
            });
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "A subscription of organisation {Org} could not start", OrgId);
            Fail(new SubscriptionEndedException(
                "The subscription could not read the event log; subscribe again with the last cursor received."));
        }
    }

    private async Task ReplayAsync(EventPosition position, PgSnapshot joinedAt)
    {
        EventLogBatch batch;
        do
        {
            // a heavy selection's replay has the budget its lane has (it is this subscription's own statement)
            batch = await reader.ReadAsync(OrgId, position, _request.Filter, [Shape], options.SubscriptionBatchSize, _cancellation.Token,
                bound: joinedAt, timeout: Shape.Heavy ? TimeSpan.FromSeconds(options.SubscriptionBuildTimeoutSeconds) : null);
            lock (_gate)
            {
                if (_done)
                    return;
                foreach (var row in batch.Rows)
                    if (row.Shapes[0] is { } json && !Send(json, row.Runs.Length > 0 ? row.Runs[0] : null))
                        return;
            }
            position = batch.Next;
        } while (batch.More);

        lock (_gate)
        {
            if (_done)
                return;
            // the replay ended where the live batches begin
            var waiting = _waiting!;
            _waiting = null;
            foreach (var (json, runs) in waiting)
                if (!Send(json, runs))
                    return;
        }
    }

    /// <summary>
    /// Takes the feed's instance of its shape (one with the same <see cref="FeedShape.Key"/>), so that subscribers of one
    /// selection share one shape and none keeps its own parsed selection for as long as it lives.
    /// </summary>
    internal void Share(FeedShape shape)
    {
        if (shape.Key != Shape.Key)
            throw new ArgumentException("a subscriber shares only a shape equal to its own", nameof(shape));
        // not under _gate: the feed calls this holding its own lock, and delivery takes the two the other way round
        _request = _request with { Shape = shape };
    }

    /// <summary>A batch of the organisation's feed, in order; <paramref name="shape"/> is this subscriber's JSON column.</summary>
    public void Deliver(IReadOnlyList<EventLogRow> rows, int shape)
    {
        lock (_gate)
        {
            foreach (var row in rows)
                if (!DeliverRow(row, shape))
                    return;
        }
    }

    /// <summary>One event of a batch of the feed (the batch's events reach a subscriber in order, one call each).</summary>
    public void Deliver(EventLogRow row, int shape)
    {
        lock (_gate)
            DeliverRow(row, shape);
    }

    /// <returns>False when the subscription has ended (the caller holds <see cref="_gate"/>).</returns>
    private bool DeliverRow(EventLogRow row, int shape)
    {
        if (_done)
            return false;
        if (row.Shapes[shape] is not { } json || !_request.Filter.Matches(row)
            || (_request.TraceStatuses is { } statuses && !statuses.Contains(row.TraceStatus)))
            return true;
        if (_waiting is null)
            return Send(json, row.Runs.Length > shape ? row.Runs[shape] : null);
        if (_waiting.Count >= options.SubscriptionReplayBacklog)
        {
            Fail(new SubscriptionEndedException(
                "Too many live events arrived while the replay ran; resubscribe from the last cursor received."));
            return false;
        }
        _waiting.Add((json, row.Runs.Length > shape ? row.Runs[shape] : null));
        return true;
    }

    /// <summary>
    /// Sends an event (the caller holds <see cref="_gate"/>); one that shows PHI unmasked waits for its record. An event
    /// whose JSON was over <see cref="SubscriptionOptions.MaxSubscriptionEventBytes"/> ends the subscription before it.
    /// </summary>
    /// <returns>False when the subscription ended (nothing more may be sent).</returns>
    private bool Send(RawJson json, long[]? runs)
    {
        if (EventLogReader.OversizedBytes(json) is { } bytes)
        {
            Fail(new SubscriptionEndedException(
                $"An event's payload for this selection is {bytes} bytes; the most is {options.MaxSubscriptionEventBytes}. " +
                "Select less (the events before it were delivered; resubscribe from the last cursor received).")
            {
                Code = EventTooLargeCode,
            });
            return false;
        }
        if (_request.Reader is null)
        {
            observer.OnNext(json);
            ServiceTelemetry.EventsDelivered.Add(1);
            return true;
        }
        _auditing ??= [];
        if (_auditing.Count >= options.SubscriptionReplayBacklog)
        {
            Fail(new SubscriptionEndedException(
                "Events arrived faster than their PHI access could be recorded; resubscribe from the last cursor received."));
            return false;
        }
        _auditing.Add((json, runs));
        if (!_draining)
        {
            _draining = true;
            _ = DrainAuditedAsync();
        }
        return true;
    }

    /// <summary>
    /// Writes the records of the events waiting (one per event, all in one statement), then sends them in order; a
    /// record that cannot be written ends the subscription with PHI_AUDIT_FAILED and the events are not sent.
    /// </summary>
    private async Task DrainAuditedAsync()
    {
        await Task.Yield();
        while (true)
        {
            List<(RawJson Json, long[]? Runs)> pending;
            lock (_gate)
            {
                if (_done || _auditing is not { Count: > 0 })
                {
                    _auditing?.Clear();
                    _draining = false;
                    return;
                }
                pending = [.. _auditing!];
                _auditing.Clear();
            }
            try
            {
                await auditor.WriteAsync(_request.Reader!, [.. pending.Select(p => (IReadOnlyCollection<long>)(p.Runs ?? []))],
                    _cancellation.Token);
            }
            catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning("Recording the PHI access of a subscription of organisation {Org} failed: {Reason}", OrgId, e.Message);
                Fail(new SubscriptionEndedException(
                    "The events hold protected health information and their access could not be recorded, so they are not sent.")
                {
                    Code = "PHI_AUDIT_FAILED",
                });
                return;
            }
            lock (_gate)
            {
                if (_done)
                    return;
                foreach (var (json, _) in pending)
                {
                    observer.OnNext(json);
                    ServiceTelemetry.EventsDelivered.Add(1);
                }
            }
        }
    }

    /// <summary>Ends this subscription for a reason the client is told (its selection was too costly to build, …).</summary>
    public void End(SubscriptionEndedException reason) => Fail(reason);

    /// <summary>Ends this subscription after an unexpected failure while delivering to it (logged, not shown).</summary>
    public void Abort(Exception error)
    {
        logger.LogError(error, "Delivering to a subscription of organisation {Org} failed", OrgId);
        Fail(new SubscriptionEndedException("The subscription ended unexpectedly; subscribe again with the last cursor received."));
    }

    private void Fail(Exception error)
    {
        lock (_gate)
        {
            if (_done)
                return;
            _done = true;
            _waiting = null;
            if (_counted)
                ServiceTelemetry.SubscriptionEnded();
        }
        _place?.Dispose();
        _feed?.Leave(this);
        observer.OnError(error);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_done)
                return;
            _done = true;
            _waiting = null;
            if (_counted)
                ServiceTelemetry.SubscriptionEnded();
        }
        _place?.Dispose();
        _cancellation.Cancel();
        _feed?.Leave(this);
    }
}
