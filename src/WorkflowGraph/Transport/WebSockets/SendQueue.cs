using System.Net.WebSockets;
using System.Threading.Channels;

namespace WorkflowGraph.Transport.WebSockets;

/// <summary>
/// The messages waiting for one socket, sent in the order they were queued by a single loop. Queueing never waits:
/// the subscription streams call in on the thread that distributes events to everyone, so a full queue (a client
/// that stopped reading) makes <see cref="TryEnqueue"/> fail and the connection is cut, instead of that client
/// slowing the others or growing the server's memory.
/// </summary>
public sealed class SendQueue(int capacity)
{
    private readonly Channel<byte[]> _messages = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(Math.Max(1, capacity))
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleWriter = false,
        SingleReader = false,
    });

    /// <returns>False when the queue is full or discarded.</returns>
    public bool TryEnqueue(byte[] utf8Json) => _messages.Writer.TryWrite(utf8Json);

    /// <summary>Accepts nothing more and drops what waits; the loop ends after the message it is sending.</summary>
    public void Discard()
    {
        _messages.Writer.TryComplete();
        while (_messages.Reader.TryRead(out _))
        {
        }
    }

    /// <summary>Sends each message as one text frame until the queue is discarded.</summary>
    public async Task SendAllAsync(WebSocket socket)
    {
        await foreach (var message in _messages.Reader.ReadAllAsync())
            await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
    }
}
