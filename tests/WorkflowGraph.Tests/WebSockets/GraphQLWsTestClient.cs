using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace WorkflowGraph.Tests.WebSockets;

/// <summary>
/// A graphql-transport-ws client for tests, over <see cref="ClientWebSocket"/>: connect (with or without the
/// subprotocol), init, subscribe, then wait for an operation's <c>next</c>/<c>error</c>/<c>complete</c> with a timeout,
/// and see how the server closed the socket. Messages are read by a background loop and kept per operation id, so
/// interleaved operations can be awaited in any order; the server's <c>ping</c>s are answered (and counted) unless
/// <see cref="AnswerPings"/> is off. A client made with <c>startReading: false</c> reads nothing until
/// <see cref="StartReading"/> (a slow consumer).
/// </summary>
public sealed class GraphQLWsTestClient : IAsyncDisposable
{
    public const string SubProtocol = "graphql-transport-ws";
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly ClientWebSocket _socket;
    private readonly ConcurrentDictionary<string, Channel<JsonElement>> _byId = new();
    private readonly Channel<JsonElement> _connectionMessages = Channel.CreateUnbounded<JsonElement>();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private Task? _reading;
    private int _pings;

    private GraphQLWsTestClient(ClientWebSocket socket) => _socket = socket;

    /// <summary>Answer the server's <c>ping</c> with <c>pong</c> (on by default).</summary>
    public bool AnswerPings { get; set; } = true;

    /// <summary>The server's <c>ping</c> messages seen so far.</summary>
    public int PingsReceived => Volatile.Read(ref _pings);

    /// <summary>The subprotocol the server accepted (null when none).</summary>
    public string? AcceptedSubProtocol => _socket.SubProtocol;

    /// <summary>How the server closed the socket (null while open or when it dropped without a close frame).</summary>
    public WebSocketCloseStatus? CloseStatus { get; private set; }

    public string? CloseDescription { get; private set; }

    /// <summary>Why the read loop ended when the socket broke instead of closing.</summary>
    public Exception? ReadFailure { get; private set; }

    /// <param name="webSocketUri">Like <c>ws://127.0.0.1:1234/graphql</c>.</param>
    /// <param name="subProtocols">The subprotocols to offer (by default graphql-transport-ws; empty offers none).</param>
    /// <param name="startReading">False: read nothing until <see cref="StartReading"/>.</param>
    /// <param name="configure">Further socket options.</param>
    /// <param name="invoker">The HTTP handler to connect through (e.g. one making sockets with a small receive buffer).</param>
    public static async Task<GraphQLWsTestClient> ConnectAsync(Uri webSocketUri, string[]? subProtocols = null, bool startReading = true,
        Action<ClientWebSocketOptions>? configure = null, HttpMessageInvoker? invoker = null, CancellationToken cancellationToken = default)
    {
        var socket = new ClientWebSocket();
        foreach (var protocol in subProtocols ?? [SubProtocol])
            socket.Options.AddSubProtocol(protocol);
        configure?.Invoke(socket.Options);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(DefaultTimeout);
        await socket.ConnectAsync(webSocketUri, invoker, timeout.Token);
        var client = new GraphQLWsTestClient(socket);
        if (startReading)
            client.StartReading();
        return client;
    }

    /// <summary>Connects, sends <c>connection_init</c> with <c>{"Authorization": authorization}</c> and waits for the ack.</summary>
    public static async Task<GraphQLWsTestClient> ConnectAndInitAsync(Uri webSocketUri, string authorization)
    {
        var client = await ConnectAsync(webSocketUri);
        try
        {
            await client.InitAsync(new { Authorization = authorization });
            await client.ExpectAckAsync();
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    public void StartReading() => _reading ??= Task.Run(ReadAllAsync);

    public Task InitAsync(object? payload) => SendAsync(new { type = "connection_init", payload });

    /// <summary>Waits for <c>connection_ack</c>; fails on any other message or a close.</summary>
    public async Task<JsonElement> ExpectAckAsync(TimeSpan? timeout = null)
    {
        var message = await ConnectionMessageAsync(timeout);
        Assert.True(Type(message) == "connection_ack", $"expected connection_ack, got {message}");
        return message;
    }

    /// <summary>Sends <c>subscribe</c> (for queries and mutations too).</summary>
    public Task SubscribeAsync(string id, string query, object? variables = null, string? operationName = null) =>
        SendAsync(new { id, type = "subscribe", payload = new { query, variables, operationName } });

    /// <summary>Sends <c>complete</c> for <paramref name="id"/>: the client stops listening.</summary>
    public Task CompleteAsync(string id) => SendAsync(new { id, type = "complete" });

    public Task PingAsync(object? payload = null) => SendAsync(payload is null ? new { type = "ping" } : new { type = "ping", payload });

    /// <summary>Sends an object as JSON.</summary>
    public Task SendAsync(object message) => SendTextAsync(JsonSerializer.Serialize(message));

    public async Task SendTextAsync(string text)
    {
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>The next message without an id (connection_ack, pong, ...; the server's pings are kept out).</summary>
    public async Task<JsonElement> ConnectionMessageAsync(TimeSpan? timeout = null) =>
        await ReadAsync(_connectionMessages, "a connection message", timeout);

    /// <summary>The next message of operation <paramref name="id"/> (next, error or complete).</summary>
    public Task<JsonElement> MessageAsync(string id, TimeSpan? timeout = null) =>
        ReadAsync(Messages(id), $"a message for operation {id}", timeout);

    /// <summary>The payload of the next <c>next</c> of <paramref name="id"/>; fails on <c>error</c>, <c>complete</c> or a close.</summary>
    public async Task<JsonElement> NextAsync(string id, TimeSpan? timeout = null)
    {
        var message = await MessageAsync(id, timeout);
        Assert.True(Type(message) == "next", $"expected next for {id}, got {message}");
        return message.GetProperty("payload");
    }

    /// <summary>The payload of the next <c>next</c> of <paramref name="id"/>, or null when none arrives within
    /// <paramref name="wait"/> or the socket closes (<see cref="IsClosed"/> tells which).</summary>
    public async Task<JsonElement?> NextOrNothingAsync(string id, TimeSpan wait)
    {
        StartReading();
        using var deadline = new CancellationTokenSource(wait);
        JsonElement message;
        try
        {
            message = await Messages(id).Reader.ReadAsync(deadline.Token);
        }
        catch (Exception error) when (error is OperationCanceledException or ChannelClosedException)
        {
            return null;
        }
        Assert.True(Type(message) == "next", $"expected next for {id}, got {message}");
        return message.GetProperty("payload");
    }

    /// <summary>The <c>error</c> payload (an array of GraphQL errors) of <paramref name="id"/>.</summary>
    public async Task<JsonElement> ErrorAsync(string id, TimeSpan? timeout = null)
    {
        var message = await MessageAsync(id, timeout);
        Assert.True(Type(message) == "error", $"expected error for {id}, got {message}");
        var payload = message.GetProperty("payload");
        Assert.Equal(JsonValueKind.Array, payload.ValueKind);
        return payload;
    }

    /// <summary>Waits for <c>complete</c> of <paramref name="id"/>.</summary>
    public async Task CompletedAsync(string id, TimeSpan? timeout = null)
    {
        var message = await MessageAsync(id, timeout);
        Assert.True(Type(message) == "complete", $"expected complete for {id}, got {message}");
    }

    /// <summary>The messages of <paramref name="id"/> received and not yet taken.</summary>
    public IReadOnlyList<JsonElement> TakeReceived(string id)
    {
        var taken = new List<JsonElement>();
        while (Messages(id).Reader.TryRead(out var message))
            taken.Add(message);
        return taken;
    }

    /// <summary>Asserts that nothing arrives for <paramref name="id"/> during <paramref name="quiet"/>.</summary>
    public async Task NothingForAsync(string id, TimeSpan quiet)
    {
        await Task.Delay(quiet);
        Assert.False(Messages(id).Reader.TryPeek(out var message), $"expected nothing for {id}, got {message}");
    }

    /// <summary>Waits until the server closes the socket; returns its close status (null when the socket broke).</summary>
    public async Task<WebSocketCloseStatus?> ClosedAsync(TimeSpan? timeout = null)
    {
        StartReading();
        await _closed.Task.WaitAsync(timeout ?? DefaultTimeout);
        return CloseStatus;
    }

    /// <summary>Asserts the server closed with <paramref name="code"/>; returns the reason it gave.</summary>
    public async Task<string> ExpectCloseAsync(int code, TimeSpan? timeout = null)
    {
        var status = await ClosedAsync(timeout);
        Assert.True((int?)status == code, $"expected close {code}, got {(int?)status} '{CloseDescription}' {ReadFailure?.Message}");
        return CloseDescription ?? "";
    }

    public bool IsClosed => _closed.Task.IsCompleted;

    public static string? Type(JsonElement message) =>
        message.ValueKind == JsonValueKind.Object && message.TryGetProperty("type", out var type) ? type.GetString() : null;

    private Channel<JsonElement> Messages(string id)
    {
        var channel = _byId.GetOrAdd(id, _ => Channel.CreateUnbounded<JsonElement>());
        if (IsClosed)
            channel.Writer.TryComplete();
        return channel;
    }

    private async Task<JsonElement> ReadAsync(Channel<JsonElement> channel, string what, TimeSpan? timeout)
    {
        StartReading();
        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            return await channel.Reader.ReadAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"waited {(timeout ?? DefaultTimeout).TotalSeconds:0.#} s for {what} in vain{ClosedNote()}");
            throw;
        }
        catch (ChannelClosedException)
        {
            Assert.Fail($"the socket closed while waiting for {what}{ClosedNote()}");
            throw;
        }
    }

    private string ClosedNote() => IsClosed ? $" (closed: {(int?)CloseStatus} '{CloseDescription}' {ReadFailure?.Message})" : "";

    private async Task ReadAllAsync()
    {
        var buffer = new byte[64 * 1024];
        var text = new MemoryStream();
        try
        {
            while (true)
            {
                var received = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    CloseStatus = _socket.CloseStatus;
                    CloseDescription = _socket.CloseStatusDescription;
                    // complete the closing handshake, as browsers and the ws package do
                    if (_socket.State == WebSocketState.CloseReceived)
                        await _socket.CloseOutputAsync(
                            _socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                    break;
                }
                text.Write(buffer, 0, received.Count);
                if (!received.EndOfMessage)
                    continue;
                var message = JsonDocument.Parse(text.ToArray()).RootElement;
                text.SetLength(0);
                await DispatchAsync(message);
            }
        }
        catch (Exception error)
        {
            ReadFailure = error;
        }
        finally
        {
            _connectionMessages.Writer.TryComplete();
            foreach (var channel in _byId.Values)
                channel.Writer.TryComplete();
            _closed.TrySetResult();
        }
    }

    private async Task DispatchAsync(JsonElement message)
    {
        if (message.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
        {
            await Messages(id.GetString()!).Writer.WriteAsync(message);
            return;
        }
        if (Type(message) == "ping")
        {
            Interlocked.Increment(ref _pings);
            if (AnswerPings)
                await SendAsync(new { type = "pong" });
            return;
        }
        await _connectionMessages.Writer.WriteAsync(message);
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token);
            }
            catch (Exception error) when (error is WebSocketException or OperationCanceledException)
            {
            }
        }
        if (_reading is not null)
            await Task.WhenAny(_reading, Task.Delay(TimeSpan.FromSeconds(2)));
        _socket.Dispose();
        _sendLock.Dispose();
    }
}
