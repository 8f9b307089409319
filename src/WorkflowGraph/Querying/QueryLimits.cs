namespace WorkflowGraph.Querying;

/// <summary>The <c>GraphQL:*</c> limits on what one operation may ask of the database (defaults in the README).</summary>
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

    /// <summary>The largest cost of a subscription's selection, which is built again for every event delivered.</summary>
    public int MaxSubscriptionComplexity { get; set; } = 2_000;

    /// <summary>What each introspection field (<c>__schema</c>, <c>__type</c>) costs, whatever it selects.</summary>
    public int IntrospectionCost { get; set; } = 1_000;

    public int ExecutionTimeoutSeconds { get; set; } = 30;

    /// <summary>The largest response (about, in bytes of JSON); a larger one is replaced by a RESPONSE_TOO_LARGE error.</summary>
    public long MaxResponseBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>The largest JSON value one mutation input field may carry (input, output, context, config).</summary>
    public int MaxJsonInputBytes { get; set; } = 64 * 1024;

    /// <summary>The most runs one bulk cancel or re-run may match; a filter matching more is refused (ValidationError).</summary>
    public int MaxBulkRuns { get; set; } = 100_000;

    /// <summary>The most runs one export may match; a filter matching more is refused (ValidationError).</summary>
    public int MaxExportRuns { get; set; } = 10_000;

    /// <summary>The longest window (where.startTime) a statistics field may cover, in days.</summary>
    public int MaxStatsWindowDays { get; set; } = 400;

    /// <summary>The most anomalies one <c>anomalyDetected</c> message holds; the rest follow in the next one.</summary>
    public int MaxAnomaliesPerMessage { get; set; } = 20;

    /// <summary>The most time buckets a statistics field's window may be split into.</summary>
    public int MaxStatsBuckets { get; set; } = 1_000;

    /// <summary>
    /// The most groups one statistics field may merge (each holds its counts and a histogram in the service, ~1 kB); a
    /// grouping whose rows fall into more is refused while they are read.
    /// </summary>
    public int MaxStatsGroups { get; set; } = 20_000;

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
}
