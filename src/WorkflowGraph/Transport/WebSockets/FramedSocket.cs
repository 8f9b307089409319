using System.Buffers;
using System.Net.WebSockets;

namespace WorkflowGraph.Transport.WebSockets;

/// <summary>
/// A WebSocket as whole messages in and out, below any protocol. One loop reads and assembles messages up to a size
/// bound (1009 above it) and hands each to the <see cref="IFramedSocketHandler"/>; <see cref="SendQueue"/> sends what it
/// holds while it holds something (1013 when it is full); a close, whichever side begins it, ends both within
/// <see cref="CloseHandshake"/>'s bounds, and the socket is aborted if it is not closed by then.
/// </summary>
public sealed class FramedSocket
{
    private const int ReceiveChunkBytes = 16 * 1024;

    private readonly WebSocket _socket;
    private readonly long _maxMessageBytes;
    private readonly SendQueue _queue;
    private readonly TaskCompletionSource<CloseReason> _closeRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _closing;

    public FramedSocket(WebSocket socket, long maxMessageBytes, int sendBuffer, long sendBufferBytes = long.MaxValue)
    {
        (_socket, _maxMessageBytes) = (socket, maxMessageBytes);
        // a send that fails ends the connection as a client that vanished does: the receive that waits fails too
        _queue = new SendQueue(sendBuffer, sendBufferBytes) { Overflowed = CloseOrganisationOverflow, Failed = socket.Abort };
    }

    /// <summary>What is queued from now on counts against the organisation's budget too.</summary>
    public void JoinBudget(OrganisationSendBudget organisation) => _queue.Join(organisation);

    /// <summary>A close was requested or has begun: nothing sent from now on goes out.</summary>
    public bool IsClosing => _closing;

    /// <returns>How the socket ended: the server's close reason, or the client's close status.</returns>
    public async Task<string> RunAsync(IFramedSocketHandler handler)
    {
        _queue.Start(_socket);
        var receiving = ReceiveAllAsync(handler);
        try
        {
            await Task.WhenAny(receiving, _closeRequested.Task);
            _closing = true;
            handler.OnClosing();
            _queue.Discard();
            if (_closeRequested.Task.IsCompleted)
            {
                var reason = await _closeRequested.Task;
                await CloseHandshake.CloseAsync(_socket, reason, _queue.Sending, receiving);
                return $"closed by the server: {reason.Code} {reason.Description}";
            }
            // the client closed (or vanished)
            await CloseHandshake.AnswerAsync(_socket, _queue.Sending);
            return $"closed by the client: {(int?)_socket.CloseStatus ?? 1006} {_socket.CloseStatusDescription}";
        }
        finally
        {
            if (_socket.State is not (WebSocketState.Closed or WebSocketState.Aborted))
                _socket.Abort();
        }
    }

    /// <summary>Queues a message; never waits, since the caller may be the thread that distributes events to every
    /// connection. A full queue means the client is not keeping up, and the socket closes (1013).</summary>
    public void Send(byte[] utf8)
    {
        if (_closing)
            return;
        if (!_queue.TryEnqueue(utf8))
            CloseSlowConsumer();
    }

    /// <summary>Closes with <paramref name="reason"/> as soon as the message being sent is out; what is queued is
    /// dropped. Idempotent, the first reason wins; never blocks, like <see cref="Send"/>.</summary>
    public void Close(CloseReason reason)
    {
        _closing = true;
        if (_closeRequested.TrySetResult(reason))
            _queue.Discard();
    }

    private void CloseMessageTooBig() => Close(new(CloseReason.MessageTooBigCode, "Message too big"));

    private void CloseSlowConsumer() => Close(new(CloseReason.TryAgainLaterCode, "Slow consumer: send buffer full"));

    private void CloseOrganisationOverflow() =>
        Close(new(CloseReason.TryAgainLaterCode, "Slow consumer: the organisation's send buffer is full"));

    /// <summary>
    /// Between messages the loop waits with a zero-byte receive, so an idle connection holds no receive buffer: the
    /// chunk is rented when a message begins and returned when it ends, and a message that fits one chunk is handed
    /// over from the chunk itself; only a message spread over several chunks is assembled in a buffer of its own.
    /// </summary>
    private async Task ReceiveAllAsync(IFramedSocketHandler handler)
    {
        byte[]? chunk = null;
        ArrayBufferWriter<byte>? assembled = null;
        var discarding = false;
        try
        {
            while (true)
            {
                if (chunk is null)
                {
                    var waited = await _socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
                    if (waited.MessageType == WebSocketMessageType.Close)
                        return;
                    if (waited.EndOfMessage)
                    {
                        // an empty message
                        if (!_closing && !discarding)
                            await handler.HandleAsync(ReadOnlyMemory<byte>.Empty);
                        discarding = false;
                        continue;
                    }
                    chunk = ArrayPool<byte>.Shared.Rent(ReceiveChunkBytes);
                }
                var received = await _socket.ReceiveAsync(chunk.AsMemory(), CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                    return;
                var complete = received.EndOfMessage;
                // once closing, read only to see the client's close frame
                if (_closing || discarding)
                {
                    discarding = !complete;
                }
                else if ((assembled?.WrittenCount ?? 0) + received.Count > _maxMessageBytes)
                {
                    CloseMessageTooBig();
                    discarding = !complete;
                }
                else if (complete && assembled is null)
                {
                    await handler.HandleAsync(chunk.AsMemory(0, received.Count));
                }
                else
                {
                    assembled ??= new ArrayBufferWriter<byte>(ReceiveChunkBytes * 2);
                    assembled.Write(chunk.AsSpan(0, received.Count));
                    if (complete)
                        await handler.HandleAsync(assembled.WrittenMemory);
                }
                if (complete)
                {
                    assembled = null;
                    ArrayPool<byte>.Shared.Return(chunk);
                    chunk = null;
                }
            }
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // the client vanished, or the socket was dropped while closing
        }
        catch (Exception error)
        {
            handler.OnReceiveFailed(error);
        }
        finally
        {
            if (chunk is not null)
                ArrayPool<byte>.Shared.Return(chunk);
        }
    }
}
