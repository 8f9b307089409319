namespace WorkflowGraph.Transport;

/// <summary>The <c>GraphQL:*</c> limits of the HTTP and WebSocket transports (defaults documented in the README).</summary>
public sealed class TransportLimits
{
    /// <summary>The largest request body, and the largest WebSocket message.</summary>
    public long MaxRequestBytes { get; set; } = 256 * 1024;

    /// <summary>How long a new WebSocket may wait before sending <c>connection_init</c> (then 4408).</summary>
    public double ConnectionInitTimeoutSeconds { get; set; } = 10;

    /// <summary>Interval of the server's <c>ping</c> messages and WebSocket keep-alive frames; 0 turns both off.</summary>
    public double KeepAliveSeconds { get; set; } = 15;

    /// <summary>Operations one WebSocket may run at once; a <c>subscribe</c> beyond it gets an <c>error</c>.</summary>
    public int MaxSubscriptionsPerConnection { get; set; } = 100;

    /// <summary>Messages waiting to be sent on one WebSocket; a client that lets more pile up is cut off (1013).</summary>
    public int SubscriptionSendBuffer { get; set; } = 1000;

    /// <summary>Bytes waiting to be sent on one WebSocket; a client that lets more pile up is cut off (1013).</summary>
    public long SubscriptionSendBufferBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Bytes waiting to be sent on all of one organisation's WebSockets on this instance; above it the connection
    /// holding the most is cut off (1013).</summary>
    public long SubscriptionOrganisationBufferBytes { get; set; } = 64 * 1024 * 1024;
}
