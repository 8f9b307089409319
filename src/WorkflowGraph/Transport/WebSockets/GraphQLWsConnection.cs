using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Text;
using GraphQL;
using GraphQL.Transport;
using WorkflowGraph.Tenancy;
using static WorkflowGraph.Transport.WebSockets.GraphQLWsProtocol;

namespace WorkflowGraph.Transport.WebSockets;

/// <summary>
/// One accepted socket speaking graphql-transport-ws: <c>connection_init</c> (the token, checked before anything runs)
/// within the init timeout, then operations, each in its own scope, until the client closes or the server does
/// (protocol violation, expired token, slow consumer, shutdown). Two loops run: one receives and dispatches, one
/// sends what <see cref="SendQueue"/> holds.
/// </summary>
internal sealed class GraphQLWsConnection
{
    /// <summary>How long a closing handshake (or the send in progress before it) may take before the socket is dropped.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);
    private const int ReceiveChunkBytes = 16 * 1024;

    private readonly WebSocket _socket;
    private readonly HttpContext _http;
    private readonly SendQueue _queue;
    private readonly ConcurrentDictionary<string, GraphQLWsOperation> _operations = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _lifetime = new();
    private readonly TaskCompletionSource<CloseReason> _closeRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _closing;
    private bool _initReceived;
    private bool _acknowledged;

    public GraphQLWsConnection(WebSocket socket, HttpContext http, GraphQLWsServices services)
    {
        (_socket, _http, Services) = (socket, http, services);
        _queue = new SendQueue(services.Limits.SubscriptionSendBuffer);
    }

    public GraphQLWsServices Services { get; }

    private TransportLimits Limits => Services.Limits;

    /// <returns>How the connection ended: the server's close reason, or the client's close status.</returns>
    public async Task<string> RunAsync()
    {
        using var stopping = Services.Lifetime.ApplicationStopping.Register(() => RequestClose(CloseReason.GoingAway));
        var sending = _queue.SendAllAsync(_socket);
        var receiving = ReceiveAllAsync();
        _ = CloseUnlessInitialisedAsync();
        try
        {
            await Task.WhenAny(receiving, sending, _closeRequested.Task);
            _closing = true;
            _lifetime.Cancel();
            StopOperations();
            _queue.Discard();
            if (_closeRequested.Task.IsCompleted)
            {
                var reason = await _closeRequested.Task;
                await CloseAsync(reason, sending, receiving);
                return $"closed by the server: {reason.Code} {reason.Description}";
            }
            // the client closed (or vanished): answer its close frame
            if (_socket.State == WebSocketState.CloseReceived && await CompletesWithinAsync(sending))
                await WithinAsync(token => _socket.CloseOutputAsync(_socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, "", token));
            return $"closed by the client: {(int?)_socket.CloseStatus ?? 1006} {_socket.CloseStatusDescription}";
        }
        finally
        {
            if (_socket.State is not (WebSocketState.Closed or WebSocketState.Aborted))
                _socket.Abort();
        }
    }

    /// <summary>Closes with <paramref name="reason"/> as soon as the send in progress is out; idempotent, first reason wins.
    /// Never blocks: the caller may be the thread that distributes events.</summary>
    public void RequestClose(CloseReason reason)
    {
        _closing = true;
        if (_closeRequested.TrySetResult(reason))
            _queue.Discard();
    }

    /// <summary>Queues a message; when the queue is full the client is not keeping up and the connection is cut (1013).</summary>
    public void Send(OperationMessage message)
    {
        if (_closing)
            return;
        var utf8 = Encoding.UTF8.GetBytes(Services.Serializer.Serialize(message));
        if (!_queue.TryEnqueue(utf8))
            RequestClose(CloseReason.SlowConsumer);
    }

    /// <summary>The operation has ended: its id may be used again.</summary>
    public void Forget(GraphQLWsOperation operation) => _operations.TryRemove(new(operation.Id, operation));

    private async Task ReceiveAllAsync()
    {
        var chunk = ArrayPool<byte>.Shared.Rent(ReceiveChunkBytes);
        var message = new ArrayBufferWriter<byte>(ReceiveChunkBytes);
        var discarding = false;
        try
        {
            while (true)
            {
                var received = await _socket.ReceiveAsync(chunk.AsMemory(), CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                    return;
                // after a close was requested, read only to see the client's close frame
                if (_closing || discarding)
                {
                    discarding = !received.EndOfMessage;
                    continue;
                }
                if (message.WrittenCount + received.Count > Limits.MaxRequestBytes)
                {
                    RequestClose(CloseReason.MessageTooBig);
                    continue;
                }
                message.Write(chunk.AsSpan(0, received.Count));
                if (!received.EndOfMessage)
                    continue;
                await HandleAsync(message.WrittenMemory);
                message.ResetWrittenCount();
            }
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // the client vanished, or the socket was dropped while closing
        }
        catch (Exception error)
        {
            Services.Logger.LogError(error, "WebSocket {Connection} failed handling a message", _http.TraceIdentifier);
            RequestClose(CloseReason.InternalServerError);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private async Task HandleAsync(ReadOnlyMemory<byte> utf8)
    {
        ClientMessage message;
        try
        {
            message = ClientMessage.Parse(utf8);
        }
        catch (ProtocolViolationException violation)
        {
            RequestClose(violation.Reason);
            return;
        }
        switch (message.Type)
        {
            case ConnectionInit:
                await InitialiseAsync(message);
                break;
            case Ping:
                Send(new OperationMessage { Type = Pong, Payload = message.HasPayload ? message.Payload : null });
                break;
            case Pong:
                break;
            case Subscribe:
                Start(message);
                break;
            case Complete:
                if (_operations.TryGetValue(message.Id!, out var operation))
                    operation.Stop();
                break;
        }
    }

    private async Task InitialiseAsync(ClientMessage message)
    {
        if (_initReceived)
        {
            RequestClose(CloseReason.TooManyInitialisationRequests);
            return;
        }
        _initReceived = true;
        var outcome = await Services.Authenticator.AuthenticateAsync(ConnectionAuthorization.From(message.Payload), _lifetime.Token);
        if (!outcome.Succeeded)
        {
            RequestClose(CloseReason.Forbidden(outcome.Problem));
            return;
        }
        var expiry = ExpiryOf(outcome.Principal!);
        if (expiry is { } expires && expires <= DateTimeOffset.UtcNow)
        {
            // within the validator's clock skew, but the connection would end at once
            RequestClose(CloseReason.TokenExpired);
            return;
        }
        // The operations' scopes read the tenant from this request's HttpContext (RequestTenant.Of), as over HTTP.
        _http.User = outcome.Principal!;
        _http.Features.Set<RequestTenant>(outcome.Tenant);
        Send(new OperationMessage { Type = ConnectionAck });
        _acknowledged = true;
        Services.Logger.LogDebug("WebSocket {Connection} acknowledged for org {Org}, user {User} ({Role})",
            _http.TraceIdentifier, outcome.Tenant!.OrgId, outcome.Tenant.UserId, outcome.Tenant.Role);
        _ = PingAsync();
        if (expiry is { } at)
            _ = CloseWhenExpiredAsync(at);
    }

    private void Start(ClientMessage message)
    {
        if (!_acknowledged)
        {
            RequestClose(CloseReason.Unauthorized);
            return;
        }
        var id = message.Id!;
        if (_operations.ContainsKey(id))
        {
            RequestClose(CloseReason.SubscriberAlreadyExists(id));
            return;
        }
        GraphQLRequest request;
        try
        {
            request = Services.Serializer.ReadNode<GraphQLRequest>(message.Payload)
                      ?? throw new ProtocolViolationException("Invalid message received: the 'subscribe' payload is empty");
        }
        catch (Exception error) when (error is not ProtocolViolationException)
        {
            RequestClose(CloseReason.BadRequest("Invalid message received: the 'subscribe' payload is not a GraphQL request"));
            return;
        }
        if (_operations.Count >= Limits.MaxSubscriptionsPerConnection)
        {
            Send(new OperationMessage
            {
                Id = id,
                Type = Error,
                Payload = new[]
                {
                    new ExecutionError($"This connection already runs {Limits.MaxSubscriptionsPerConnection} operations, the most it may; " +
                                       "complete one first or open another connection.") { Code = TooManySubscriptions },
                },
            });
            return;
        }
        var operation = new GraphQLWsOperation(id, this);
        _operations[id] = operation;
        // StopOperations runs once _closing is set: an operation added meanwhile stops itself
        if (_closing)
        {
            operation.Stop();
            return;
        }
        _ = operation.RunAsync(request);
    }

    private void StopOperations()
    {
        foreach (var operation in _operations.Values)
            operation.Stop();
    }

    private async Task CloseUnlessInitialisedAsync()
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(Limits.ConnectionInitTimeoutSeconds), _lifetime.Token);
            if (!_initReceived)
                RequestClose(CloseReason.InitialisationTimeout);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The protocol's <c>ping</c> every <see cref="TransportLimits.KeepAliveSeconds"/>; the client answers <c>pong</c>.</summary>
    private async Task PingAsync()
    {
        if (Limits.KeepAliveSeconds <= 0)
            return;
        try
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Limits.KeepAliveSeconds));
            while (await timer.WaitForNextTickAsync(_lifetime.Token))
                Send(new OperationMessage { Type = Ping });
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>A connection lives no longer than its token; the client reconnects with a fresh one (and resumes from its cursor).</summary>
    private async Task CloseWhenExpiredAsync(DateTimeOffset expires)
    {
        var wait = expires - DateTimeOffset.UtcNow;
        if (wait > MaxDelay)
            return;
        try
        {
            await Task.Delay(wait, _lifetime.Token);
            RequestClose(CloseReason.TokenExpired);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static readonly TimeSpan MaxDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>The token's <c>exp</c> (seconds since the epoch), which the validator already required.</summary>
    private static DateTimeOffset? ExpiryOf(ClaimsPrincipal principal) =>
        long.TryParse(principal.FindFirst("exp")?.Value, out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;

    private async Task CloseAsync(CloseReason reason, Task sending, Task receiving)
    {
        // what was queued is dropped; the message being sent (to a client that may not read) gets CloseTimeout
        if (!await CompletesWithinAsync(sending))
            return;
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived
            && !await WithinAsync(token => _socket.CloseOutputAsync((WebSocketCloseStatus)reason.Code, reason.Description, token)))
            return;
        await CompletesWithinAsync(receiving);
    }

    private static async Task<bool> CompletesWithinAsync(Task task)
    {
        try
        {
            await task.WaitAsync(CloseTimeout);
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

    private static async Task<bool> WithinAsync(Func<CancellationToken, Task> action)
    {
        using var timeout = new CancellationTokenSource(CloseTimeout);
        try
        {
            await action(timeout.Token);
            return true;
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
    }
}
