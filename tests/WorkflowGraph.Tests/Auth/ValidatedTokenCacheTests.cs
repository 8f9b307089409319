using System.Security.Claims;
using WorkflowGraph.Auth;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Tests.Auth;

/// <summary>The validated-token cache on a clock the test moves: an entry ends at its token's expiry or at the cache
/// lifetime, whichever comes first; it never holds more than its capacity; refusals are not remembered.</summary>
public sealed class ValidatedTokenCacheTests
{
    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static readonly TokenOutcome Accepted = new(
        new RequestTenant(Guid.NewGuid(), Guid.NewGuid(), TenantRole.Viewer, PhiRead: false), new ClaimsPrincipal(), "", TokenSent: true);

    private readonly ManualClock _clock = new();

    private DateTime In(TimeSpan offset) => (_clock.Now + offset).UtcDateTime;

    [Fact]
    public void A_token_is_remembered_until_its_expiry_when_that_comes_before_the_lifetime()
    {
        var cache = new ValidatedTokenCache(_clock, TimeSpan.FromSeconds(60), capacity: 10);
        cache.Remember("t", Accepted, In(TimeSpan.FromSeconds(10)));
        _clock.Now += TimeSpan.FromSeconds(9);
        Assert.True(cache.TryGet("t", out var outcome));
        Assert.Same(Accepted, outcome);
        _clock.Now += TimeSpan.FromSeconds(1);
        Assert.False(cache.TryGet("t", out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void A_token_is_remembered_no_longer_than_the_lifetime()
    {
        var cache = new ValidatedTokenCache(_clock, TimeSpan.FromSeconds(60), capacity: 10);
        cache.Remember("t", Accepted, In(TimeSpan.FromHours(1)));
        _clock.Now += TimeSpan.FromSeconds(59);
        Assert.True(cache.TryGet("t", out _));
        _clock.Now += TimeSpan.FromSeconds(1);
        Assert.False(cache.TryGet("t", out _));
    }

    [Fact]
    public void Refusals_expired_tokens_and_a_cache_switched_off_remember_nothing()
    {
        var cache = new ValidatedTokenCache(_clock, TimeSpan.FromSeconds(60), capacity: 10);
        cache.Remember("refused", TokenOutcome.Refused("its signature does not verify"), In(TimeSpan.FromHours(1)));
        cache.Remember("expired", Accepted, In(TimeSpan.FromSeconds(-1)));
        cache.Remember("no-expiry", Accepted, DateTime.MinValue);
        Assert.Equal(0, cache.Count);

        var off = new ValidatedTokenCache(_clock, TimeSpan.Zero, capacity: 10);
        off.Remember("t", Accepted, In(TimeSpan.FromHours(1)));
        Assert.False(off.TryGet("t", out _));
        Assert.Equal(0, off.Count);
    }

    [Fact]
    public void A_full_cache_takes_no_new_token_until_expired_ones_are_swept()
    {
        var cache = new ValidatedTokenCache(_clock, TimeSpan.FromSeconds(60), capacity: 3);
        for (var i = 0; i < 3; i++)
            cache.Remember($"short{i}", Accepted, In(TimeSpan.FromSeconds(5)));
        cache.Remember("late", Accepted, In(TimeSpan.FromHours(1)));
        Assert.Equal(3, cache.Count);
        Assert.False(cache.TryGet("late", out _));

        // once the others have expired, a full cache drops them and takes the new token
        _clock.Now += TimeSpan.FromSeconds(6);
        cache.Remember("late", Accepted, In(TimeSpan.FromHours(1)));
        Assert.Equal(1, cache.Count);
        Assert.True(cache.TryGet("late", out _));
    }

    [Fact]
    public void Many_threads_remembering_distinct_tokens_never_pass_the_capacity()
    {
        var cache = new ValidatedTokenCache(_clock, TimeSpan.FromSeconds(60), capacity: 100);
        Parallel.For(0, 10_000, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            i => cache.Remember($"token{i}", Accepted, In(TimeSpan.FromHours(1))));
        Assert.Equal(100, cache.Count);
        Assert.Equal(100, Enumerable.Range(0, 10_000).Count(i => cache.TryGet($"token{i}", out _)));
    }
}
