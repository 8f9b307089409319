namespace WorkflowGraph.Transport.WebSockets;

/// <summary>
/// The bytes one organisation's connections on this instance may have waiting to be sent, together. When a message
/// would pass it, the connection holding the most (the slowest reader) is cut to make room; if that is the one sending,
/// its message is refused instead and it is cut. Either way a client that reads keeps receiving.
/// </summary>
public sealed class OrganisationSendBudget(long limit)
{
    private readonly Lock _gate = new();
    private readonly HashSet<SendQueue> _queues = [];
    private long _queued;

    public long QueuedBytes
    {
        get
        {
            lock (_gate)
                return _queued;
        }
    }

    internal void Join(SendQueue queue)
    {
        lock (_gate)
            _queues.Add(queue);
    }

    internal void Leave(SendQueue queue)
    {
        lock (_gate)
            _queues.Remove(queue);
    }

    internal void Release(long bytes)
    {
        lock (_gate)
            _queued -= bytes;
    }

    internal bool TryReserve(SendQueue queue, long bytes)
    {
        SendQueue? slowest;
        lock (_gate)
        {
            if (_queued + bytes <= limit)
            {
                _queued += bytes;
                return true;
            }
            slowest = _queues.Where(other => other != queue).MaxBy(other => other.QueuedBytes);
            if (slowest is null || slowest.QueuedBytes <= queue.QueuedBytes)
                return false;
        }
        // closing discards its queue, which gives its bytes back (outside the lock: Discard releases through it)
        slowest.Overflowed?.Invoke();
        lock (_gate)
        {
            if (_queued + bytes > limit)
                return false;
            _queued += bytes;
            return true;
        }
    }
}
