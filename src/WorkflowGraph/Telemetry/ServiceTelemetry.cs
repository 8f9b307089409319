using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace WorkflowGraph.Telemetry;

/// <summary>
/// The service's own spans and instruments (one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named
/// <see cref="Name"/>). They cost next to nothing until an OpenTelemetry provider listens (see
/// <see cref="TelemetryServices"/>). No tag carries variables, row data or a token: operation names and types, error
/// codes, outcomes, and on spans the organisation id.
/// </summary>
public static class ServiceTelemetry
{
    public const string Name = "WorkflowGraph";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    // 1 ms to 30 s: the default buckets (0 to 10,000) are for milliseconds
    private static readonly double[] SecondsBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    /// <summary>One GraphQL request (HTTP or WebSocket, subscriptions until they are set up): by operation and outcome.</summary>
    public static readonly Histogram<double> RequestDuration = Meter.CreateHistogram(
        "graphql.server.request.duration", "s", "GraphQL requests by operation name, operation type and outcome",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });

    /// <summary>GraphQL errors by their <c>extensions.code</c>.</summary>
    public static readonly Counter<long> Errors = Meter.CreateCounter<long>(
        "graphql.server.errors", "{error}", "GraphQL errors in responses, by code");

    // Open sockets and running subscriptions are kept as absolute counts and observed, not added to an up-down
    // counter: a listener that starts while some are open (a second exporter, a restarted scrape) still reads the
    // true number, never a negative one.
    private static long _openWebSockets;
    private static long _activeSubscriptions;

    public static readonly ObservableUpDownCounter<long> OpenWebSockets = Meter.CreateObservableUpDownCounter(
        "workflowgraph.websocket.connections", () => Interlocked.Read(ref _openWebSockets), "{connection}",
        "graphql-transport-ws connections open now");

    public static readonly ObservableUpDownCounter<long> ActiveSubscriptions = Meter.CreateObservableUpDownCounter(
        "workflowgraph.subscriptions.active", () => Interlocked.Read(ref _activeSubscriptions), "{subscription}",
        "Subscriptions running now (all transports)");

    public static void WebSocketOpened() => Interlocked.Increment(ref _openWebSockets);

    public static void WebSocketClosed() => Interlocked.Decrement(ref _openWebSockets);

    public static void SubscriptionStarted() => Interlocked.Increment(ref _activeSubscriptions);

    public static void SubscriptionEnded() => Interlocked.Decrement(ref _activeSubscriptions);

    public static readonly Counter<long> EventsDelivered = Meter.CreateCounter<long>(
        "workflowgraph.events.delivered", "{event}", "Subscription messages handed to their transport (live and replayed)");

    /// <summary>From the writing transaction's start (the event's <c>created_at</c>, at most that much before its commit) to
    /// the live feed's read of it: what a subscriber waits at least, commit to delivery.</summary>
    public static readonly Histogram<double> FeedLag = Meter.CreateHistogram(
        "workflowgraph.feed.lag", "s", "Live events: from the writing transaction's start to the feed's read",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });

    public static readonly Counter<long> RateLimited = Meter.CreateCounter<long>(
        "workflowgraph.rate_limit.rejections", "{request}", "Requests and subscriptions refused by a per-organisation limit, by limit");

    /// <summary>Runs the sweeper ended, by <c>outcome</c> (timeout, cancelled).</summary>
    public static readonly Counter<long> SweptRuns = Meter.CreateCounter<long>(
        "workflowgraph.sweeper.runs", "{run}", "Runs the sweeper ended (lease or limit passed, graceful cancel not acted on), by outcome");

    /// <summary>Runs bulk operations acted on, by <c>kind</c> (cancel, rerun) and <c>outcome</c> (done, failed).</summary>
    public static readonly Counter<long> BulkRuns = Meter.CreateCounter<long>(
        "workflowgraph.bulk.runs", "{run}", "Runs bulk operations processed, by kind and outcome (failed: could no longer be acted on)");

    /// <summary>Records per PHI access audit commit (the group commit's batch size).</summary>
    public static readonly Histogram<long> PhiAuditBatch = Meter.CreateHistogram<long>(
        "workflowgraph.phi_audit.batch_size", "{record}", "PHI access records written per audit commit",
        advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });

    // the last lag measured by this process (NaN: no replica), for the gauge below
    private static double _replicaLag = double.NaN;

    public static readonly ObservableGauge<double> ReplicaLag = Meter.CreateObservableGauge(
        "workflowgraph.replica.lag", ReplicaLagMeasurements, "s", "The read replica's replay lag as last measured (0: caught up)");

    public static void ReportReplicaLag(double seconds) => Volatile.Write(ref _replicaLag, seconds);

    private static IEnumerable<Measurement<double>> ReplicaLagMeasurements() =>
        double.IsNaN(Volatile.Read(ref _replicaLag)) ? [] : [new Measurement<double>(Volatile.Read(ref _replicaLag))];
}
