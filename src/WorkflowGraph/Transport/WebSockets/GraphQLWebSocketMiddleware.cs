using System.Net.WebSockets;
using WorkflowGraph.Telemetry;
using WorkflowGraph.Transport.Http;

namespace WorkflowGraph.Transport.WebSockets;

/// <summary>
/// Takes WebSocket upgrades of <c>/graphql</c> before endpoint routing (whose <c>/graphql</c> endpoint answers every
/// method) and runs them as graphql-transport-ws connections; every other request passes through untouched. A client
/// that does not offer the subprotocol is accepted and closed with 4406, as graphql-ws's own server does, so it learns
/// why.
/// </summary>
internal sealed class GraphQLWebSocketMiddleware(RequestDelegate next, GraphQLWsServices services)
{
    /// <summary>The shortest wait for a WebSocket pong: a pause of the peer's or of this server's own (a collection, a busy
    /// machine) is not a dead peer, however short the keep-alive interval.</summary>
    internal static readonly TimeSpan MinPeerTimeout = TimeSpan.FromSeconds(10);

    public async Task InvokeAsync(HttpContext http)
    {
        if (!http.WebSockets.IsWebSocketRequest || !http.Request.Path.Equals(GraphQLHttpEndpoint.Path, StringComparison.OrdinalIgnoreCase))
        {
            await next(http);
            return;
        }
        var offered = http.WebSockets.WebSocketRequestedProtocols.Contains(GraphQLWsProtocol.SubProtocol);
        var keepAlive = TimeSpan.FromSeconds(Math.Max(0, services.Limits.KeepAliveSeconds));
        using var socket = await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = offered ? GraphQLWsProtocol.SubProtocol : null,
            // WebSocket ping frames; a peer that stops answering them for two intervals (at least MinPeerTimeout) is dropped
            KeepAliveInterval = keepAlive,
            KeepAliveTimeout = PeerTimeout(keepAlive),
        });
        var logger = services.Logger;
        logger.LogDebug("WebSocket {Connection} opened from {Remote}", http.TraceIdentifier, http.Connection.RemoteIpAddress);
        if (!offered)
        {
            await CloseSubprotocolNotAcceptableAsync(socket);
            logger.LogInformation("WebSocket {Connection} refused: no {Protocol} subprotocol",
                http.TraceIdentifier, GraphQLWsProtocol.SubProtocol);
            return;
        }
        string ending;
        ServiceTelemetry.WebSocketOpened();
        try
        {
            ending = await new GraphQLWsConnection(socket, http, services).RunAsync();
        }
        finally
        {
            ServiceTelemetry.WebSocketClosed();
        }
        logger.LogInformation("WebSocket {Connection} {Ending}", http.TraceIdentifier, ending);
    }

    private static TimeSpan PeerTimeout(TimeSpan keepAlive) =>
        keepAlive == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : TimeSpan.FromTicks(Math.Max(2 * keepAlive.Ticks, MinPeerTimeout.Ticks));

    private static async Task CloseSubprotocolNotAcceptableAsync(WebSocket socket)
    {
        var reason = new CloseReason(CloseReason.SubprotocolNotAcceptableCode, "Subprotocol not acceptable");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await socket.CloseAsync((WebSocketCloseStatus)reason.Code, reason.Description, timeout.Token);
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException)
        {
            socket.Abort();
        }
    }
}
