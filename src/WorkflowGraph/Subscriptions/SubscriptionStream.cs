namespace WorkflowGraph.Subscriptions;

/// <summary>
/// What a subscription field returns: each observer that subscribes becomes a <see cref="Subscriber"/>, which joins its
/// organisation's feed and, given <paramref name="after"/>, first replays from there up to where it joined; disposing
/// the subscription leaves the feed.
/// </summary>
internal sealed class SubscriptionStream(Func<IObserver<object?>, Subscriber> subscriber, EventPosition? after) : IObservable<object?>
{
    public IDisposable Subscribe(IObserver<object?> observer)
    {
        var started = subscriber(observer);
        _ = started.StartAsync(after);
        return started;
    }
}
