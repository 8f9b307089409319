using WorkflowGraph.Subscriptions;

namespace WorkflowGraph.Tests.Subscriptions;

/// <summary>The wait between attempts after a lost LISTEN connection or a failed feed read (README: Faults).</summary>
public sealed class ReconnectBackoffTests
{
    [Fact]
    public void Waits_100_ms_then_doubles_up_to_5_s_and_starts_over_after_a_success()
    {
        var backoff = new ReconnectBackoff();
        var waits = Enumerable.Range(0, 9).Select(_ => backoff.Next().TotalMilliseconds).ToList();
        Assert.Equal([100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000], waits);

        backoff.Reset();
        Assert.Equal(TimeSpan.FromMilliseconds(100), backoff.Next());
    }
}
