namespace WorkflowGraph.Transport.WebSockets;

/// <summary>The names of graphql-transport-ws, the protocol of the graphql-ws library (its PROTOCOL.md).</summary>
public static class GraphQLWsProtocol
{
    public const string SubProtocol = "graphql-transport-ws";

    public const string ConnectionInit = "connection_init";
    public const string ConnectionAck = "connection_ack";
    public const string Ping = "ping";
    public const string Pong = "pong";
    public const string Subscribe = "subscribe";
    public const string Next = "next";
    public const string Error = "error";
    public const string Complete = "complete";

    /// <summary>The <c>extensions.code</c> of the <c>error</c> a subscribe beyond the per-connection limit gets.</summary>
    public const string TooManySubscriptions = "TOO_MANY_SUBSCRIPTIONS";
}
