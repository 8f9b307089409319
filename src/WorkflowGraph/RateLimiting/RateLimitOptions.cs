namespace WorkflowGraph.RateLimiting;

/// <summary>
/// <c>RateLimits:*</c>: what one organisation may use of one instance (the limits are kept in memory, per instance:
/// behind a load balancer spreading over N instances an organisation gets up to N times these). 0 turns a limit off.
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>GraphQL requests per second of one organisation (HTTP requests and WebSocket operations).</summary>
    public int RequestsPerSecond { get; set; } = 500;

    /// <summary>Requests an organisation may send at once above its rate (token bucket size); 0: one second's worth.</summary>
    public int Burst { get; set; }

    /// <summary>HTTP requests of one organisation running at the same time.</summary>
    public int ConcurrentRequests { get; set; } = 64;

    /// <summary>Subscriptions of one organisation open at the same time.</summary>
    public int SubscriptionsPerOrganisation { get; set; } = 1000;

    /// <summary>Tighter limits for a role within an organisation (<c>RateLimits:Roles:viewer:RequestsPerSecond</c>).</summary>
    public Dictionary<string, RoleRateLimits> Roles { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>The limits of one role within one organisation; 0 or absent: only the organisation's apply.</summary>
public sealed class RoleRateLimits
{
    public int RequestsPerSecond { get; set; }
    public int Burst { get; set; }
    public int ConcurrentRequests { get; set; }
}
