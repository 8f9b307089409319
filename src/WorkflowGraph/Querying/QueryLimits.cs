namespace WorkflowGraph.Querying;

/// <summary>The <c>GraphQL:*</c> limits that protect the database (defaults documented in the README).</summary>
public sealed class QueryLimits
{
    public int DefaultPageSize { get; set; } = 20;
    public int MaxPageSize { get; set; } = 100;

    /// <summary>Rows a navigation list returns when it has no <c>first</c>; <c>first</c> may not exceed it.</summary>
    public int MaxNestedListSize { get; set; } = 100;

    /// <summary>The rows the cost analysis assumes for a navigation list without <c>first</c>.</summary>
    public int AssumedListSize { get; set; } = 10;

    public int MaxDepth { get; set; } = 12;
    public int MaxComplexity { get; set; } = 20_000;
    public int ExecutionTimeoutSeconds { get; set; } = 30;
    public long MaxRequestBytes { get; set; } = 256 * 1024;

    /// <summary>The largest JSON value one mutation input field may carry (input, output, context, config).</summary>
    public int MaxJsonInputBytes { get; set; } = 64 * 1024;

    public int PageSize(int? first, int? last)
    {
        if (first is not null && last is not null)
            throw QueryErrors.InvalidPaging("give first or last, not both");
        var size = first ?? last ?? DefaultPageSize;
        if (size < 0)
            throw QueryErrors.InvalidPaging($"{(first is not null ? "first" : "last")} must not be negative");
        if (size > MaxPageSize)
            throw QueryErrors.PageTooLarge(first is not null ? "first" : "last", size, MaxPageSize);
        return size;
    }

    public int NestedListSize(int? first)
    {
        if (first is null)
            return MaxNestedListSize;
        if (first < 0)
            throw QueryErrors.InvalidPaging("first must not be negative");
        if (first > MaxNestedListSize)
            throw QueryErrors.PageTooLarge("first", first.Value, MaxNestedListSize);
        return first.Value;
    }

    // The WebSocket transport (graphql-transport-ws); MaxRequestBytes bounds each of its messages too.

    /// <summary>How long a new WebSocket may wait before sending <c>connection_init</c> (then 4408).</summary>
    public double ConnectionInitTimeoutSeconds { get; set; } = 10;

    /// <summary>Interval of the server's <c>ping</c> messages and WebSocket keep-alive frames; 0 turns both off.</summary>
    public double KeepAliveSeconds { get; set; } = 15;

    /// <summary>Operations one WebSocket may run at once; a <c>subscribe</c> beyond it gets an <c>error</c>.</summary>
    public int MaxSubscriptionsPerConnection { get; set; } = 100;

    /// <summary>Messages waiting to be sent on one WebSocket; a client that lets more pile up is cut off (1013).</summary>
    public int SubscriptionSendBuffer { get; set; } = 1000;
}
