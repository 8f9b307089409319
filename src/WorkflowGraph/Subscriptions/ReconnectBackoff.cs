namespace WorkflowGraph.Subscriptions;

/// <summary>
/// How long to wait before trying again after a lost connection or a failed read: 100 ms, doubling up to 5 s, so a
/// short outage heals fast and a long one is not hammered. A success starts it over.
/// </summary>
internal sealed class ReconnectBackoff
{
    private static readonly TimeSpan First = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Longest = TimeSpan.FromSeconds(5);

    private TimeSpan _last = TimeSpan.Zero;

    /// <summary>The wait before the next attempt, longer than the previous one until the cap.</summary>
    public TimeSpan Next()
    {
        _last = _last == TimeSpan.Zero ? First : TimeSpan.FromTicks(Math.Min(_last.Ticks * 2, Longest.Ticks));
        return _last;
    }

    public void Reset() => _last = TimeSpan.Zero;
}
