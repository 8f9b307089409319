using System.Net.WebSockets;

namespace WorkflowGraph.Transport.WebSockets;

/// <summary>
/// The end of a socket in bounded time. A client may have stopped reading (the message being sent never completes)
/// or never answer a close frame, so each step gets <see cref="StepTimeout"/>; the caller aborts the socket after.
/// </summary>
internal static class CloseHandshake
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The server's close: the message being sent completes, the close frame goes out, the client answers.</summary>
    public static async Task CloseAsync(WebSocket socket, CloseReason reason, Task sending, Task receiving)
    {
        if (!await CompletesWithinAsync(sending))
            return;
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived
            && !await WithinAsync(token => socket.CloseOutputAsync((WebSocketCloseStatus)reason.Code, reason.Description, token)))
            return;
        await CompletesWithinAsync(receiving);
    }

    /// <summary>The client's close: its close frame is echoed once the message being sent is out.</summary>
    public static async Task AnswerAsync(WebSocket socket, Task sending)
    {
        if (socket.State == WebSocketState.CloseReceived && await CompletesWithinAsync(sending))
            await WithinAsync(token => socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, "", token));
        // the WebSocket layer itself closed for a frame it refused (1007 for text that is not UTF-8): let the client
        // read that close and answer it, rather than dropping the connection under it
        else if (socket.State == WebSocketState.CloseSent)
            await WithinAsync(async token =>
            {
                var buffer = new byte[256];
                while (socket.State == WebSocketState.CloseSent
                       && (await socket.ReceiveAsync(buffer, token)).MessageType != WebSocketMessageType.Close)
                {
                }
            });
    }

    private static async Task<bool> CompletesWithinAsync(Task task)
    {
        try
        {
            await task.WaitAsync(StepTimeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
    }

    private static async Task<bool> WithinAsync(Func<CancellationToken, Task> step)
    {
        using var timeout = new CancellationTokenSource(StepTimeout);
        try
        {
            await step(timeout.Token);
            return true;
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
    }
}
