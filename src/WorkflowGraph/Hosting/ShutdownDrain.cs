namespace WorkflowGraph.Hosting;

/// <summary>
/// A graceful stop in three steps. When the host starts stopping, the instance is <see cref="Draining"/>:
/// <c>/healthz/ready</c> answers 503 so load balancers stop sending it work, while it goes on serving for
/// <c>Lifecycle:DrainSeconds</c> (the drain window; WebSocket subscribers keep receiving). Then <see cref="Closing"/>
/// fires: WebSockets close with 1001 (clients reconnect elsewhere and resume from their last cursor) and the live feeds
/// stop. Then the server stops accepting connections and lets the HTTP requests in flight finish (up to the host's
/// shutdown timeout, which is kept at least 30 s longer than the window).
/// </summary>
public sealed class ShutdownDrain(IConfiguration configuration, IHostApplicationLifetime lifetime, ILogger<ShutdownDrain> logger)
    : IHostedLifecycleService
{
    public const string DrainSecondsKey = "Lifecycle:DrainSeconds";

    // never disposed: a host may stop its services after disposing the container, and this one has no timer to free
    private readonly CancellationTokenSource _closing = new();
    private volatile bool _draining;

    public TimeSpan Window { get; } = TimeSpan.FromSeconds(Math.Clamp(configuration.GetValue(DrainSecondsKey, 0.0), 0, 3600));

    /// <summary>The instance is stopping: not ready for new work.</summary>
    public bool Draining => _draining;

    /// <summary>Fires when the drain window is over: long-lived work (WebSockets, live feeds) ends now.</summary>
    public CancellationToken Closing => _closing.Token;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(() => _draining = true);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs before any service stops, so the server still accepts and serves during the window.</summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        if (Window > TimeSpan.Zero)
        {
            logger.LogInformation("Draining: not ready, closing WebSockets in {Seconds} s", Window.TotalSeconds);
            try
            {
                await Task.Delay(Window, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }
        await _closing.CancelAsync();
    }

    public Task StopAsync(CancellationToken cancellationToken) => _closing.CancelAsync();

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
