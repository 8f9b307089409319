using System.Collections.Concurrent;

namespace WorkflowGraph.Auth;

/// <summary>
/// Bearer tokens that validated, remembered so that a client sending the same token again does not pay for the
/// signature check again (about a sixth of the service's CPU per read). Bounded three ways: an entry lives until the
/// earlier of its token's <c>exp</c> (without the clock skew, so nothing is accepted that a fresh check would refuse)
/// and <c>Auth:TokenCacheSeconds</c> after it was validated (how long a key withdrawn by the authority can still be
/// honoured; 0 turns the cache off); at most <c>Auth:TokenCacheEntries</c> entries, beyond which new tokens are simply
/// validated each time. Refusals are never remembered.
/// </summary>
public sealed class ValidatedTokenCache(TimeProvider clock, TimeSpan lifetime, int capacity)
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private int _count;
    private long _lastSweepTicks;

    public bool Enabled => lifetime > TimeSpan.Zero && capacity > 0;

    /// <summary>How many tokens are remembered now (tests and metrics).</summary>
    public int Count => Volatile.Read(ref _count);

    public bool TryGet(string token, out TokenOutcome outcome)
    {
        outcome = null!;
        if (!Enabled || !_entries.TryGetValue(token, out var entry))
            return false;
        if (entry.Until <= clock.GetUtcNow())
        {
            Forget(token, entry);
            return false;
        }
        outcome = entry.Outcome;
        return true;
    }

    /// <summary>Remembers a validated token until the earlier of <paramref name="validTo"/> and the cache lifetime.</summary>
    public void Remember(string token, TokenOutcome outcome, DateTime validTo)
    {
        if (!Enabled || !outcome.Succeeded || validTo == DateTime.MinValue)
            return;
        var now = clock.GetUtcNow();
        var until = new DateTimeOffset(DateTime.SpecifyKind(validTo, DateTimeKind.Utc));
        if (now + lifetime < until)
            until = now + lifetime;
        if (until <= now)
            return;
        if (!TryReserve())
        {
            SweepExpired(now);
            if (!TryReserve())
                return;
        }
        if (!_entries.TryAdd(token, new Entry(outcome, until)))
            Interlocked.Decrement(ref _count);
    }

    /// <summary>Counts an entry in before adding it, so that racing threads never take the count past the capacity.</summary>
    private bool TryReserve()
    {
        if (Interlocked.Increment(ref _count) <= capacity)
            return true;
        Interlocked.Decrement(ref _count);
        return false;
    }

    /// <summary>When full, drops the expired entries (at most once a second).</summary>
    private void SweepExpired(DateTimeOffset now)
    {
        var last = Interlocked.Read(ref _lastSweepTicks);
        if (now.UtcTicks - last >= TimeSpan.TicksPerSecond && Interlocked.CompareExchange(ref _lastSweepTicks, now.UtcTicks, last) == last)
        {
            foreach (var (token, entry) in _entries)
            {
                if (entry.Until <= now)
                    Forget(token, entry);
            }
        }
    }

    private void Forget(string token, Entry entry)
    {
        if (_entries.TryRemove(new KeyValuePair<string, Entry>(token, entry)))
            Interlocked.Decrement(ref _count);
    }

    private sealed record Entry(TokenOutcome Outcome, DateTimeOffset Until);
}
