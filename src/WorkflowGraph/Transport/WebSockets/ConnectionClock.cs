namespace WorkflowGraph.Transport.WebSockets;

/// <summary>
/// The one clock of every WebSocket connection's protocol deadlines (the init deadline, keep-alive pings, the token's
/// expiry): a single timer that ticks a few times per shortest interval and asks each open connection whether one of
/// its deadlines has passed. A connection holds three numbers instead of a timer, a cancellation source and a waiting
/// task per deadline, so an idle one costs little; a deadline is met within one tick.
/// </summary>
internal sealed class ConnectionClock : IDisposable
{
    /// <summary>The longest tick, with the default limits (a deadline comes at most this late).</summary>
    private static readonly TimeSpan MaxTick = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MinTick = TimeSpan.FromMilliseconds(20);

    private readonly HashSet<IClockedConnection> _connections = new(ReferenceEqualityComparer.Instance);
    private readonly Lock _ticking = new();
    private readonly Timer _timer;
    private readonly ILogger _logger;

    public ConnectionClock(TransportLimits limits, ILogger<ConnectionClock> logger)
    {
        _logger = logger;
        Tick = TickFor(limits);
        _timer = new Timer(_ => TickAll(), null, Tick, Tick);
    }

    public TimeSpan Tick { get; }

    /// <summary>Milliseconds on the clock's monotonic scale (what deadlines are written in).</summary>
    public static long Now => Environment.TickCount64;

    /// <summary>A quarter of the shortest interval a connection waits for, within [20 ms, 1 s].</summary>
    internal static TimeSpan TickFor(TransportLimits limits)
    {
        var shortest = MaxTick.TotalSeconds * 4;
        if (limits.ConnectionInitTimeoutSeconds > 0)
            shortest = Math.Min(shortest, limits.ConnectionInitTimeoutSeconds);
        if (limits.KeepAliveSeconds > 0)
            shortest = Math.Min(shortest, limits.KeepAliveSeconds);
        var tick = TimeSpan.FromSeconds(shortest / 4);
        return tick < MinTick ? MinTick : tick > MaxTick ? MaxTick : tick;
    }

    public void Add(IClockedConnection connection)
    {
        lock (_connections)
            _connections.Add(connection);
    }

    public void Remove(IClockedConnection connection)
    {
        lock (_connections)
            _connections.Remove(connection);
    }

    public void Dispose() => _timer.Dispose();

    private void TickAll()
    {
        // a tick that outlasts the period is not overlapped by the next one
        if (!_ticking.TryEnter())
            return;
        try
        {
            var now = Now;
            lock (_connections)
            {
                // what a connection does on its deadline never waits (it queues a message or requests a close)
                foreach (var connection in _connections)
                {
                    try
                    {
                        connection.OnTick(now);
                    }
                    catch (Exception error)
                    {
                        // one connection's failure must not stop the others' clocks
                        _logger.LogError(error, "A WebSocket connection's deadline failed");
                    }
                }
            }
        }
        finally
        {
            _ticking.Exit();
        }
    }
}

/// <summary>A connection with deadlines on the <see cref="ConnectionClock"/>.</summary>
internal interface IClockedConnection
{
    /// <summary>Acts on each deadline that has passed by <paramref name="now"/> (<see cref="ConnectionClock.Now"/>); never
    /// blocks and never calls back into the clock.</summary>
    void OnTick(long now);
}
