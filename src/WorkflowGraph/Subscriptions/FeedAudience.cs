namespace WorkflowGraph.Subscriptions;

/// <summary>
/// The subscribers one read hands its batch to, indexed once: a run's followers by its id, the others apart. The feed
/// makes it again only after a join or a leave, so a batch costs its rows and its deliveries, not an index of everyone
/// (with thousands of subscribers that index was most of what the feed allocated).
/// </summary>
internal sealed class FeedAudience
{
    private readonly Dictionary<long, Subscriber[]> _byRun;
    private readonly Subscriber[] _others;

    public FeedAudience(Subscriber[] subscribers)
    {
        All = subscribers;
        _byRun = subscribers.Where(s => s.TraceId is not null).GroupBy(s => s.TraceId!.Value)
            .ToDictionary(run => run.Key, run => run.ToArray());
        _others = [.. subscribers.Where(s => s.TraceId is null)];
    }

    public Subscriber[] All { get; }

    /// <summary>
    /// Hands each subscriber its part of the batch, in order (<paramref name="shapes"/>: the batch's JSON columns); one
    /// subscriber's failure ends that subscriber only.
    /// </summary>
    public void Distribute(IReadOnlyList<EventLogRow> rows, FeedShape[] shapes)
    {
        foreach (var subscriber in _others)
        {
            try
            {
                subscriber.Deliver(rows, ShapeOf(subscriber, shapes));
            }
            catch (Exception e)
            {
                // one subscriber's failure must not make the feed read (and send) the batch again to the others
                subscriber.Abort(e);
            }
        }
        foreach (var row in rows)
        {
            if (!_byRun.TryGetValue(row.TraceId, out var followers))
                continue;
            foreach (var subscriber in followers)
            {
                try
                {
                    subscriber.Deliver(row, ShapeOf(subscriber, shapes));
                }
                catch (Exception e)
                {
                    subscriber.Abort(e);
                }
            }
        }
    }

    private static int ShapeOf(Subscriber subscriber, FeedShape[] shapes)
    {
        for (var i = 0; i < shapes.Length; i++)
            if (shapes[i].Key == subscriber.Shape.Key)
                return i;
        throw new InvalidOperationException("a subscriber's shape is not among the batch's");
    }
}
