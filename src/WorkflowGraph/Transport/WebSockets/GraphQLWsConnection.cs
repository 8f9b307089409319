using System.Net.WebSockets;
using System.Security.Claims;
using System.Text;
using GraphQL;
using GraphQL.Transport;
using WorkflowGraph.RateLimiting;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Transport.Cors;
using static WorkflowGraph.Transport.WebSockets.GraphQLWsProtocol;

namespace WorkflowGraph.Transport.WebSockets;

/// <summary>
/// graphql-transport-ws over one <see cref="FramedSocket"/>: <c>connection_init</c> (the token, checked before anything
/// runs) within the init timeout, then operations (<see cref="GraphQLWsOperation"/>, each in its own scope) until the
/// client closes or the server does. Every reason the server closes for is a <c>Close…</c> method at the end.
/// </summary>
internal sealed class GraphQLWsConnection : IFramedSocketHandler, IClockedConnection
{
    private readonly FramedSocket _socket;
    private readonly HttpContext _http;
    private readonly ConnectionOperations _operations = new();
    // ends a token check in progress once the socket closes
    private readonly CancellationTokenSource _lifetime = new();
    private volatile bool _initReceived;
    private volatile bool _acknowledged;
    // deadlines on the ConnectionClock's scale (ConnectionClock.Now); set before _initReceived or _acknowledged says
    // they apply
    private readonly long _initDeadline;
    private long _nextPing = long.MaxValue;
    private long _expiresAt = long.MaxValue;

    public GraphQLWsConnection(WebSocket socket, HttpContext http, GraphQLWsServices services)
    {
        (_http, Services) = (http, services);
        _socket = new FramedSocket(socket, services.Limits.MaxRequestBytes, services.Limits.SubscriptionSendBuffer,
            services.Limits.SubscriptionSendBufferBytes);
        _initDeadline = ConnectionClock.Now + Milliseconds(services.Limits.ConnectionInitTimeoutSeconds);
    }

    public GraphQLWsServices Services { get; }

    private TransportLimits Limits => Services.Limits;

    /// <returns>How the connection ended: the server's close reason, or the client's close status.</returns>
    public async Task<string> RunAsync()
    {
        // at the end of the drain window when the service stops (see ShutdownDrain)
        using var stopping = Services.Shutdown.Closing.Register(CloseGoingAway);
        var running = _socket.RunAsync(this);
        Services.Clock.Add(this);
        try
        {
            return await running;
        }
        finally
        {
            Services.Clock.Remove(this);
        }
    }

    /// <summary>The protocol's deadlines: the init timeout, the keep-alive pings, the token's expiry.</summary>
    void IClockedConnection.OnTick(long now)
    {
        if (!_initReceived)
        {
            if (now >= _initDeadline)
                CloseInitialisationTimeout();
            return;
        }
        if (!_acknowledged)
            return;
        if (now >= Volatile.Read(ref _expiresAt))
        {
            CloseTokenExpired();
            return;
        }
        if (now >= Volatile.Read(ref _nextPing))
        {
            Volatile.Write(ref _nextPing, now + Milliseconds(Limits.KeepAliveSeconds));
            // the client answers pong: a connection that stopped working shows, and proxies see it is not idle
            Send(new OperationMessage { Type = Ping });
        }
    }

    private static long Milliseconds(double seconds) => (long)Math.Min(seconds * 1000, long.MaxValue / 4);

    /// <summary>Queues a message (see <see cref="FramedSocket.Send"/>).</summary>
    public void Send(OperationMessage message)
    {
        // nothing goes out once closing: spare the serialising
        if (_socket.IsClosing)
            return;
        _socket.Send(Encoding.UTF8.GetBytes(Services.Serializer.Serialize(message)));
    }

    /// <summary>The operation has ended: its id may be used again.</summary>
    public void Forget(GraphQLWsOperation operation) => _operations.Forget(operation);

    async Task IFramedSocketHandler.HandleAsync(ReadOnlyMemory<byte> utf8)
    {
        ClientMessage message;
        try
        {
            message = ClientMessage.Parse(utf8);
        }
        catch (ProtocolViolationException violation)
        {
            CloseBadRequest(violation.Message);
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
                _operations.Stop(message.Id!);
                break;
        }
    }

    void IFramedSocketHandler.OnReceiveFailed(Exception error)
    {
        Services.Logger.LogError(error, "WebSocket {Connection} failed handling a message", _http.TraceIdentifier);
        CloseInternalServerError();
    }

    void IFramedSocketHandler.OnClosing()
    {
        _lifetime.Cancel();
        _operations.StopAll();
    }

    private async Task InitialiseAsync(ClientMessage message)
    {
        if (_initReceived)
        {
            CloseTooManyInitialisationRequests();
            return;
        }
        _initReceived = true;
        var outcome = await Services.Authenticator.AuthenticateAsync(ConnectionAuthorization.From(message.Payload), _lifetime.Token);
        if (!outcome.Succeeded)
        {
            CloseForbidden(outcome.Problem);
            return;
        }
        // the same clock skew as the token check (and as HTTP): a token HTTP accepts opens a connection, which lasts
        // until its expiry plus that skew
        var expiry = ExpiryOf(outcome.Principal!) + Services.Tokens.ClockSkew;
        // The operations' scopes read the tenant from this request's HttpContext (RequestTenant.Of), as over HTTP.
        _http.User = outcome.Principal!;
        _http.Features.Set<RequestTenant>(outcome.Tenant);
        if (outcome.Tenant!.OrgId is { } orgId)
            _socket.JoinBudget(Services.SendBudgets.For(orgId));
        var now = ConnectionClock.Now;
        if (Limits.KeepAliveSeconds > 0)
            Volatile.Write(ref _nextPing, now + Milliseconds(Limits.KeepAliveSeconds));
        // A connection lives no longer than its token; the client reconnects with a fresh one (and resumes from its cursor).
        if (expiry is { } at)
            Volatile.Write(ref _expiresAt, now + Milliseconds(Math.Max(0, (at - DateTimeOffset.UtcNow).TotalSeconds)));
        Send(new OperationMessage { Type = ConnectionAck });
        _acknowledged = true;
        Services.Logger.LogDebug("WebSocket {Connection} acknowledged for org {Org}, user {User} ({Role})",
            _http.TraceIdentifier, outcome.Tenant!.OrgId, outcome.Tenant.UserId, outcome.Tenant.Role);
    }

    private void Start(ClientMessage message)
    {
        if (!_acknowledged)
        {
            CloseUnauthorized();
            return;
        }
        var id = message.Id!;
        if (_operations.IsRunning(id))
        {
            CloseSubscriberAlreadyExists(id);
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
            CloseBadRequest("Invalid message received: the 'subscribe' payload is not a GraphQL request");
            return;
        }
        if (_operations.Count >= Limits.MaxSubscriptionsPerConnection)
        {
            RefuseOverLimit(id);
            return;
        }
        if (Services.Limiter.TryTakeRate(RequestTenant.Of(_http)) is { } refusal)
        {
            RefuseRateLimited(id, refusal);
            return;
        }
        // a persisted document (documentId, or an APQ hash) is resolved as over HTTP; a refusal ends this operation only
        if (Services.Persisted.Resolve(request, AllowedOrigins.FromOwnPage(_http)) is { } refused)
        {
            Send(new OperationMessage
            {
                Id = id,
                Type = Error,
                Payload = new[] { new ExecutionError(refused.Message) { Code = refused.Code } },
            });
            return;
        }
        var operation = new GraphQLWsOperation(id, this);
        _operations.Add(operation);
        // OnClosing stops the operations there are once IsClosing is set: one added meanwhile stops itself
        if (_socket.IsClosing)
        {
            operation.Stop();
            return;
        }
        _ = operation.RunAsync(request);
    }

    /// <summary>An <c>error</c> for this operation only: the socket stays open, so the client may complete another
    /// operation and try again.</summary>
    private void RefuseOverLimit(string id) => Send(new OperationMessage
    {
        Id = id,
        Type = Error,
        Payload = new[]
        {
            new ExecutionError($"This connection already runs {Limits.MaxSubscriptionsPerConnection} operations, the most it may; " +
                               "complete one first or open another connection.") { Code = TooManySubscriptions },
        },
    });

    /// <summary>The organisation is over its request rate: an <c>error</c> for this operation only.</summary>
    private void RefuseRateLimited(string id, RateLimitRefusal refusal) =>
        Send(new OperationMessage { Id = id, Type = Error, Payload = new[] { new RateLimitedException(refusal) } });

    /// <summary>The token's <c>exp</c> (seconds since the epoch), which the validator already required.</summary>
    private static DateTimeOffset? ExpiryOf(ClaimsPrincipal principal) =>
        long.TryParse(principal.FindFirst("exp")?.Value, out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;

    private void CloseBadRequest(string why) => Close(CloseReason.BadRequestCode, why);

    private void CloseUnauthorized() => Close(CloseReason.UnauthorizedCode, "Unauthorized");

    private void CloseForbidden(string why) => Close(CloseReason.ForbiddenCode, "Forbidden: " + why);

    private void CloseTokenExpired() => CloseForbidden("token expired");

    private void CloseInitialisationTimeout() =>
        Close(CloseReason.ConnectionInitialisationTimeoutCode, "Connection initialisation timeout");

    private void CloseSubscriberAlreadyExists(string id) =>
        Close(CloseReason.SubscriberAlreadyExistsCode, $"Subscriber for {id} already exists");

    private void CloseTooManyInitialisationRequests() =>
        Close(CloseReason.TooManyInitialisationRequestsCode, "Too many initialisation requests");

    private void CloseInternalServerError() => Close(CloseReason.InternalServerErrorCode, "Internal server error");

    private void CloseGoingAway() => Close(CloseReason.GoingAwayCode, "Server shutting down");

    private void Close(int code, string description) => _socket.Close(new CloseReason(code, description));
}
