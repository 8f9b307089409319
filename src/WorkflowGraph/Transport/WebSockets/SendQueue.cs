using System.Net.WebSockets;

namespace WorkflowGraph.Transport.WebSockets;

/// <summary>
/// The messages waiting for one socket, sent in the order they were queued, bounded in messages and in bytes (and,
/// once the connection knows its organisation, within that organisation's <see cref="OrganisationSendBudget"/>).
/// Queueing never waits: the subscription streams call in on the thread that distributes events to everyone, so a full
/// queue (a client that stopped reading) makes <see cref="TryEnqueue"/> fail and the connection is cut, instead of that
/// client slowing the others or growing the server's memory. An idle socket holds neither a queue nor a waiting send
/// loop: the first message makes the queue and starts a send on the thread pool, which ends when the queue is empty.
/// </summary>
public sealed class SendQueue(int capacity, long maxBytes = long.MaxValue)
{
    private readonly int _capacity = Math.Max(1, capacity);
    private readonly Lock _gate = new();
    private Queue<byte[]>? _messages;
    private WebSocket? _socket;
    // the send that runs (or the last one): it ends when the queue is empty, discarded, or a send failed
    private Task _sending = Task.CompletedTask;
    private bool _pumping;
    private long _bytes;
    private OrganisationSendBudget? _organisation;
    private bool _discarded;

    /// <summary>Bytes queued and not yet sent.</summary>
    public long QueuedBytes => Interlocked.Read(ref _bytes);

    /// <summary>Called when the organisation's budget is full and this queue holds the most of it: the owner closes.</summary>
    public Action? Overflowed { get; set; }

    /// <summary>Called when a send failed (the socket broke): the owner ends the connection.</summary>
    public Action? Failed { get; set; }

    /// <summary>Completes once the message being sent, if any, is out (or its send failed).</summary>
    public Task Sending
    {
        get
        {
            lock (_gate)
                return _sending;
        }
    }

    /// <summary>From now on what is queued counts against <paramref name="organisation"/>'s budget too.</summary>
    public void Join(OrganisationSendBudget organisation)
    {
        lock (_gate)
        {
            if (_discarded)
                return;
            organisation.Join(this);
            _organisation = organisation;
        }
    }

    /// <summary>Sends each message as one text frame on <paramref name="socket"/>, what is queued already and what comes,
    /// until the queue is discarded.</summary>
    public void Start(WebSocket socket)
    {
        lock (_gate)
        {
            _socket = socket;
            PumpIfWaiting();
        }
    }

    /// <returns>False when the queue is full (in messages or bytes), the organisation's budget is, or the queue is discarded.</returns>
    public bool TryEnqueue(byte[] utf8Json)
    {
        long size = utf8Json.Length;
        if (Interlocked.Add(ref _bytes, size) > maxBytes)
        {
            Interlocked.Add(ref _bytes, -size);
            return false;
        }
        var organisation = _organisation;
        if (organisation is not null && !organisation.TryReserve(this, size))
        {
            Interlocked.Add(ref _bytes, -size);
            return false;
        }
        lock (_gate)
        {
            if (!_discarded && (_messages?.Count ?? 0) < _capacity)
            {
                (_messages ??= new Queue<byte[]>()).Enqueue(utf8Json);
                PumpIfWaiting();
                return true;
            }
        }
        Release(size, organisation);
        return false;
    }

    /// <summary>Accepts nothing more and drops what waits; the send in progress ends after the message it is sending.</summary>
    public void Discard()
    {
        byte[][] dropped;
        lock (_gate)
        {
            _discarded = true;
            dropped = _messages?.ToArray() ?? [];
            _messages = null;
        }
        foreach (var message in dropped)
            Release(message.Length, _organisation);
        _organisation?.Leave(this);
    }

    /// <summary>Starts a send when messages wait, there is a socket and none runs (the caller holds the lock).</summary>
    private void PumpIfWaiting()
    {
        if (_pumping || _socket is null || _discarded || _messages is not { Count: > 0 })
            return;
        _pumping = true;
        // on the thread pool: the caller may be the thread that distributes events to every connection
        _sending = Task.Run(() => PumpAsync(_socket));
    }

    private async Task PumpAsync(WebSocket socket)
    {
        while (true)
        {
            byte[] message;
            lock (_gate)
            {
                if (_discarded || _messages is not { Count: > 0 })
                {
                    // an idle socket keeps no queue
                    _messages = null;
                    _pumping = false;
                    return;
                }
                message = _messages.Dequeue();
            }
            try
            {
                await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }
            catch (Exception)
            {
                // the socket broke (or was aborted while closing): its owner ends the connection
                lock (_gate)
                    _pumping = false;
                Failed?.Invoke();
                return;
            }
            finally
            {
                Release(message.Length, _organisation);
            }
        }
    }

    private void Release(long size, OrganisationSendBudget? organisation)
    {
        Interlocked.Add(ref _bytes, -size);
        organisation?.Release(size);
    }
}
