using WorkflowGraph.Subscriptions;

namespace WorkflowGraph.Tests.Subscriptions;

/// <summary>
/// Snapshot comparison and cursors as the service computes them in process, against the tests' own oracle
/// (<see cref="PositionOracle"/>); which events a position reads on to is checked against the database by the
/// event feed tests.
/// </summary>
public sealed class EventPositionTests
{
    [Theory]
    [InlineData("100:105:102", 99, true)]
    [InlineData("100:105:102", 100, true)]
    [InlineData("100:105:102", 102, false)]
    [InlineData("100:105:102", 104, true)]
    [InlineData("100:105:102", 105, false)]
    [InlineData("100:100:", 99, true)]
    [InlineData("100:100:", 100, false)]
    public void A_snapshot_sees_what_committed_before_it(string snapshot, long txId, bool sees) =>
        Assert.Equal(sees, PgSnapshot.Parse(snapshot).Sees((ulong)txId));

    [Theory]
    [InlineData("100:105:102", "100:105:102", true)]  // itself
    [InlineData("103:110:106", "100:105:102", true)]  // later: 102 finished
    [InlineData("100:110:102", "100:105:102", true)]  // later, 102 still running
    [InlineData("100:105:102", "100:110:102", false)] // earlier
    [InlineData("100:105:102,103", "100:105:102", false)] // 103 was seen by the other one
    [InlineData("100:105:", "100:107:105,106", true)]  // the other saw nothing beyond 105
    [InlineData("100:105:", "100:107:106", false)]     // the other saw 105
    [InlineData("1:1:", "100:105:", false)]
    [InlineData("100:105:", "1:1:", true)]
    public void A_snapshot_includes_another_when_it_shows_everything_the_other_shows(string snapshot, string other, bool includes)
    {
        var a = PgSnapshot.Parse(snapshot);
        var b = PgSnapshot.Parse(other);
        Assert.Equal(includes, a.Includes(b));
        // checked against the visibility of every transaction id around them
        Assert.Equal(includes, Enumerable.Range(0, 120).All(t => !b.Sees((ulong)t) || a.Sees((ulong)t)));
    }

    [Fact]
    public void A_cursor_reads_back_as_the_position_it_was_made_of()
    {
        var position = new EventPosition(PgSnapshot.Parse("100:105:102,103"), PgSnapshot.Parse("104:110:"), 4711);
        Assert.True(EventPosition.TryDecode(position.Encode(), out var decoded));
        Assert.Equal(position, decoded);
        Assert.DoesNotContain('=', position.Encode());
    }

    [Theory]
    [InlineData("")]
    [InlineData("!!!")]
    [InlineData("MnwxOjE6fDE6MTp8MQ")] // version 2
    [InlineData("MXw1OjQ6fDU6NTp8MQ")] // xmin above xmax
    [InlineData("MXwxOjU6N3wxOjU6fDE")] // an in-progress id outside [xmin, xmax)
    [InlineData("MXwxOjE6fDE6MTp8LTE")] // negative id
    [InlineData("MXwxOjEwOjUsM3wxOjEwOjUsM3ww")] // running ids out of order
    [InlineData("MXwxOjEwOjMsM3wxOjEwOjMsM3ww")] // a running id twice
    [InlineData("MXwxOjEwOnwxOjU6fDA")] // upto earlier than since
    public void Malformed_cursors_are_refused(string cursor) => Assert.False(EventPosition.TryDecode(cursor, out _));

    [Fact]
    public void A_cursor_listing_more_running_transactions_than_a_server_can_have_is_refused()
    {
        var many = string.Join(',', Enumerable.Range(2, 2000));
        var huge = new EventPosition(PgSnapshot.Parse($"1:3000:{many}"), PgSnapshot.Parse($"1:3000:{many}"), 0).Encode();
        Assert.False(EventPosition.TryDecode(huge, out _));
    }
}
