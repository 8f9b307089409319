using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using WorkflowGraph.Transport.WebSockets;

namespace WorkflowGraph.Tests.WebSockets;

/// <summary>The framing on its own, over a loopback socket pair with neither HTTP nor GraphQL: whole messages in, a
/// bounded queue out, and the closes that belong to the transport (1009, 1013, the client's own).</summary>
public sealed class FramedSocketTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_message_sent_in_fragments_is_handed_over_whole_and_messages_in_order()
    {
        await using var pair = await SocketPair.OpenAsync();
        var handler = new RecordingHandler();
        var framed = new FramedSocket(pair.Server, maxMessageBytes: 64, sendBuffer: 10);
        var running = pair.ServeAsync(framed, handler);

        await pair.Client.SendAsync("hello, "u8.ToArray(), WebSocketMessageType.Text, endOfMessage: false, default);
        await pair.Client.SendAsync("world"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, default);
        await pair.Client.SendAsync("again"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, default);
        await pair.Client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", default);

        Assert.Equal("closed by the client: 1000 bye", await running.WaitAsync(Patience));
        Assert.Equal(["hello, world", "again"], handler.Messages);
        Assert.True(handler.ClosingSeen);
    }

    [Fact]
    public async Task Messages_longer_than_a_receive_chunk_and_empty_messages_are_handed_over_whole()
    {
        await using var pair = await SocketPair.OpenAsync();
        var handler = new RecordingHandler();
        var framed = new FramedSocket(pair.Server, maxMessageBytes: 1024 * 1024, sendBuffer: 10);
        var running = pair.ServeAsync(framed, handler);

        var long1 = new string('a', 40_000) + "|" + new string('b', 30_000);
        await pair.Client.SendAsync(Encoding.UTF8.GetBytes(long1), WebSocketMessageType.Text, endOfMessage: true, default);
        await pair.Client.SendAsync(Array.Empty<byte>(), WebSocketMessageType.Text, endOfMessage: true, default);
        var (part1, part2) = (new string('c', 20_000), new string('d', 20_000));
        await pair.Client.SendAsync(Encoding.UTF8.GetBytes(part1), WebSocketMessageType.Text, endOfMessage: false, default);
        await pair.Client.SendAsync(Encoding.UTF8.GetBytes(part2), WebSocketMessageType.Text, endOfMessage: true, default);
        await pair.Client.SendAsync("short"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, default);
        await pair.Client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", default);

        Assert.Equal("closed by the client: 1000 bye", await running.WaitAsync(Patience));
        Assert.Equal([long1, "", part1 + part2, "short"], handler.Messages);
    }

    [Fact]
    public async Task A_message_above_the_bound_closes_with_1009_and_is_not_handed_over()
    {
        await using var pair = await SocketPair.OpenAsync();
        var handler = new RecordingHandler();
        var framed = new FramedSocket(pair.Server, maxMessageBytes: 8, sendBuffer: 10);
        var running = pair.ServeAsync(framed, handler);

        await pair.Client.SendAsync("12345678"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, default);
        await pair.Client.SendAsync("1234"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: false, default);
        await pair.Client.SendAsync("56789"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, default);

        var (_, status, description) = await ReadUntilCloseAsync(pair.Client);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, status);
        Assert.Equal("Message too big", description);
        Assert.Equal("closed by the server: 1009 Message too big", await running.WaitAsync(Patience));
        Assert.Equal(["12345678"], handler.Messages);
    }

    [Fact]
    public async Task Sending_to_a_client_that_does_not_read_never_waits_and_closes_with_1013_once_the_queue_is_full()
    {
        await using var pair = await SocketPair.OpenAsync();
        var framed = new FramedSocket(pair.Server, maxMessageBytes: 64, sendBuffer: 2);
        var running = pair.ServeAsync(framed, new RecordingHandler());

        // far more than the kernel's buffers hold: the send loop is stuck on a message the client does not read
        var big = new byte[1024 * 1024];
        const int Sent = 100;
        for (var i = 0; i < Sent; i++)
            framed.Send(big);
        Assert.True(framed.IsClosing);

        var (messages, status, description) = await ReadUntilCloseAsync(pair.Client);
        Assert.Equal(1013, (int?)status);
        Assert.Equal("Slow consumer: send buffer full", description);
        // what was queued when the close came is dropped: at most the message being sent got out
        Assert.InRange(messages, 0, 1);
        Assert.Equal("closed by the server: 1013 Slow consumer: send buffer full", await running.WaitAsync(Patience));
    }

    [Fact]
    public async Task Close_is_idempotent_the_first_reason_wins_and_nothing_sent_after_it_goes_out()
    {
        await using var pair = await SocketPair.OpenAsync();
        var handler = new RecordingHandler();
        var framed = new FramedSocket(pair.Server, maxMessageBytes: 64, sendBuffer: 10);
        var running = pair.ServeAsync(framed, handler);

        framed.Close(new CloseReason(4499, "first"));
        framed.Close(new CloseReason(4498, "second"));
        framed.Send("after the close"u8.ToArray());

        var (messages, status, description) = await ReadUntilCloseAsync(pair.Client);
        Assert.Equal((4499, "first"), ((int?)status, description));
        Assert.Equal(0, messages);
        Assert.Equal("closed by the server: 4499 first", await running.WaitAsync(Patience));
        Assert.True(handler.ClosingSeen);
    }

    [Fact]
    public async Task A_handler_that_fails_is_told_and_chooses_the_close()
    {
        await using var pair = await SocketPair.OpenAsync();
        FramedSocket? framed = null;
        var handler = new RecordingHandler(
            onMessage: _ => throw new InvalidOperationException("broken"),
            onFailure: _ => framed!.Close(new CloseReason(4500, "Internal server error")));
        framed = new FramedSocket(pair.Server, maxMessageBytes: 64, sendBuffer: 10);
        var running = pair.ServeAsync(framed, handler);

        await pair.Client.SendAsync("boom"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, default);

        var (_, status, _) = await ReadUntilCloseAsync(pair.Client);
        Assert.Equal(4500, (int?)status);
        Assert.Equal("closed by the server: 4500 Internal server error", await running.WaitAsync(Patience));
        Assert.Equal("broken", Assert.IsType<InvalidOperationException>(handler.Failure).Message);
    }

    [Fact]
    public void A_close_reason_is_cut_to_the_123_bytes_a_close_frame_carries()
    {
        var reason = new CloseReason(4400, new string('é', 100));
        Assert.Equal(4400, reason.Code);
        Assert.True(Encoding.UTF8.GetByteCount(reason.Description) <= 123);
        Assert.EndsWith("...", reason.Description);
        Assert.Equal("short", new CloseReason(4400, "short").Description);
    }

    /// <summary>Reads data messages until the server's close frame, then answers it.</summary>
    private static async Task<(int Messages, WebSocketCloseStatus? Status, string? Description)> ReadUntilCloseAsync(WebSocket client)
    {
        using var deadline = new CancellationTokenSource(Patience);
        var buffer = new byte[1024 * 1024];
        var messages = 0;
        while (true)
        {
            var received = await client.ReceiveAsync(buffer, deadline.Token);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", deadline.Token);
                return (messages, client.CloseStatus, client.CloseStatusDescription);
            }
            if (received.EndOfMessage)
                messages++;
        }
    }

    private sealed class RecordingHandler(Action<string>? onMessage = null, Action<Exception>? onFailure = null) : IFramedSocketHandler
    {
        private readonly ConcurrentQueue<string> _messages = new();

        public IReadOnlyList<string> Messages => [.. _messages];

        public Exception? Failure { get; private set; }

        public bool ClosingSeen { get; private set; }

        public Task HandleAsync(ReadOnlyMemory<byte> message)
        {
            var text = Encoding.UTF8.GetString(message.Span);
            onMessage?.Invoke(text);
            _messages.Enqueue(text);
            return Task.CompletedTask;
        }

        public void OnReceiveFailed(Exception error)
        {
            Failure = error;
            onFailure?.Invoke(error);
        }

        public void OnClosing() => ClosingSeen = true;
    }

    /// <summary>Two WebSockets over loopback TCP with small socket buffers (so an unread client soon blocks the
    /// server's sends), made from the streams directly: no HTTP upgrade.</summary>
    private sealed class SocketPair : IAsyncDisposable
    {
        private readonly TcpClient _serverTcp, _clientTcp;

        private SocketPair(TcpClient serverTcp, TcpClient clientTcp)
        {
            (_serverTcp, _clientTcp) = (serverTcp, clientTcp);
            Server = WebSocket.CreateFromStream(serverTcp.GetStream(), new WebSocketCreationOptions { IsServer = true });
            Client = WebSocket.CreateFromStream(clientTcp.GetStream(), new WebSocketCreationOptions { IsServer = false });
        }

        public WebSocket Server { get; }

        public WebSocket Client { get; }

        /// <summary>Runs the server's side, then hangs up as Kestrel does when the request ends (a client that
        /// answered a close frame waits for that).</summary>
        public async Task<string> ServeAsync(FramedSocket framed, IFramedSocketHandler handler)
        {
            try
            {
                return await framed.RunAsync(handler);
            }
            finally
            {
                _serverTcp.Dispose();
            }
        }

        public static async Task<SocketPair> OpenAsync()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Server.SendBufferSize = 4 * 1024;
            listener.Start();
            try
            {
                var client = new TcpClient { ReceiveBufferSize = 4 * 1024 };
                var accepting = listener.AcceptTcpClientAsync();
                await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
                return new SocketPair(await accepting, client);
            }
            finally
            {
                listener.Stop();
            }
        }

        public ValueTask DisposeAsync()
        {
            Server.Dispose();
            Client.Dispose();
            _serverTcp.Dispose();
            _clientTcp.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
