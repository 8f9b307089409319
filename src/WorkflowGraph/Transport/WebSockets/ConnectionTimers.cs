namespace WorkflowGraph.Transport.WebSockets;

/// <summary>
/// The protocol's clocks (the init deadline, keep-alive pings, the token's expiry), each ended by the connection's
/// lifetime token. Nobody awaits them: a stopped timer ends quietly, without running its action.
/// </summary>
internal static class ConnectionTimers
{
    /// <summary>The longest delay <see cref="Task.Delay(TimeSpan, CancellationToken)"/> takes, about 49.7 days.</summary>
    private static readonly TimeSpan MaxDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>Runs <paramref name="action"/> once, <paramref name="seconds"/> from now, unless stopped first.</summary>
    public static async Task AfterAsync(double seconds, Action action, CancellationToken stop)
    {
        if (await DelayAsync(TimeSpan.FromSeconds(seconds), stop))
            action();
    }

    /// <summary>Runs <paramref name="action"/> once at <paramref name="moment"/>, unless stopped first; a moment
    /// further off than a timer can wait never comes (no connection lasts that long).</summary>
    public static async Task AtAsync(DateTimeOffset moment, Action action, CancellationToken stop)
    {
        if (await DelayAsync(moment - DateTimeOffset.UtcNow, stop))
            action();
    }

    /// <summary>Runs <paramref name="action"/> every <paramref name="seconds"/> until stopped.</summary>
    public static async Task EveryAsync(double seconds, Action action, CancellationToken stop)
    {
        try
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds));
            while (await timer.WaitForNextTickAsync(stop))
                action();
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <returns>False when stopped first, or when <paramref name="delay"/> is longer than a timer can wait.</returns>
    private static async Task<bool> DelayAsync(TimeSpan delay, CancellationToken stop)
    {
        if (delay > MaxDelay)
            return false;
        try
        {
            await Task.Delay(delay, stop);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
