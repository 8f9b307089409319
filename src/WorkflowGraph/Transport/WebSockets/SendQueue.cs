using System.Net.WebSockets;
using System.Threading.Channels;

namespace WorkflowGraph.Transport.WebSockets;

/// <summary>
/// The messages waiting for one socket, sent in the order they were queued by a single loop, bounded in messages and in
/// bytes (and, once the connection knows its organisation, within that organisation's <see cref="OrganisationSendBudget"/>).
/// Queueing never waits: the subscription streams call in on the thread that distributes events to everyone, so a full
/// queue (a client that stopped reading) makes <see cref="TryEnqueue"/> fail and the connection is cut, instead of that
/// client slowing the others or growing the server's memory.
/// </summary>
public sealed class SendQueue(int capacity, long maxBytes = long.MaxValue)
{
    private readonly Channel<byte[]> _messages = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(Math.Max(1, capacity))
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleWriter = false,
        SingleReader = false,
    });
    private long _bytes;
    private OrganisationSendBudget? _organisation;
    private bool _discarded;

    /// <summary>Bytes queued and not yet sent.</summary>
    public long QueuedBytes => Interlocked.Read(ref _bytes);

    /// <summary>Called when the organisation's budget is full and this queue holds the most of it: the owner closes.</summary>
    public Action? Overflowed { get; set; }

    /// <summary>From now on what is queued counts against <paramref name="organisation"/>'s budget too.</summary>
    public void Join(OrganisationSendBudget organisation)
    {
        lock (_messages)
        {
            if (_discarded)
                return;
            organisation.Join(this);
            _organisation = organisation;
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
        if (_messages.Writer.TryWrite(utf8Json))
            return true;
        Release(size, organisation);
        return false;
    }

    /// <summary>Accepts nothing more and drops what waits; the loop ends after the message it is sending.</summary>
    public void Discard()
    {
        lock (_messages)
            _discarded = true;
        _messages.Writer.TryComplete();
        while (_messages.Reader.TryRead(out var dropped))
            Release(dropped.Length, _organisation);
        _organisation?.Leave(this);
    }

    /// <summary>Sends each message as one text frame until the queue is discarded.</summary>
    public async Task SendAllAsync(WebSocket socket)
    {
        await foreach (var message in _messages.Reader.ReadAllAsync())
        {
            try
            {
                await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
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
