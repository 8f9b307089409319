using System.Threading.RateLimiting;
using WorkflowGraph.Telemetry;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.RateLimiting;

/// <summary>
/// Per-organisation limits, built from System.Threading.RateLimiting's partitioned limiters (what ASP.NET Core's rate
/// limiting middleware runs on): a token bucket per organisation and per organisation and role for the request rate,
/// a concurrency limiter per organisation and per organisation and role for HTTP requests in progress, and one per
/// organisation for open subscriptions. They are applied by the transports once the token says who the caller is
/// (the middleware runs before that), and nothing waits in a queue: a refusal is immediate, with when to retry.
/// </summary>
public sealed class OrganisationLimiter : IDisposable
{
    private readonly RateLimitOptions _options;
    private readonly PartitionedRateLimiter<Guid>? _organisationRate;
    private readonly PartitionedRateLimiter<(Guid, TenantRole)>? _roleRate;
    private readonly PartitionedRateLimiter<Guid>? _organisationConcurrency;
    private readonly PartitionedRateLimiter<(Guid, TenantRole)>? _roleConcurrency;
    private readonly PartitionedRateLimiter<Guid>? _subscriptions;

    public OrganisationLimiter(RateLimitOptions options)
    {
        _options = options;
        if (options.RequestsPerSecond > 0)
            _organisationRate = PartitionedRateLimiter.Create<Guid, Guid>(org =>
                RateLimitPartition.GetTokenBucketLimiter(org, _ => Bucket(options.RequestsPerSecond, options.Burst)));
        if (options.Roles.Values.Any(role => role.RequestsPerSecond > 0))
            _roleRate = PartitionedRateLimiter.Create<(Guid, TenantRole), (Guid, TenantRole)>(key =>
                RoleOf(key.Item2) is { RequestsPerSecond: > 0 } role
                    ? RateLimitPartition.GetTokenBucketLimiter(key, _ => Bucket(role.RequestsPerSecond, role.Burst))
                    : RateLimitPartition.GetNoLimiter(key));
        if (options.ConcurrentRequests > 0)
            _organisationConcurrency = PartitionedRateLimiter.Create<Guid, Guid>(org =>
                RateLimitPartition.GetConcurrencyLimiter(org, _ => Concurrency(options.ConcurrentRequests)));
        if (options.Roles.Values.Any(role => role.ConcurrentRequests > 0))
            _roleConcurrency = PartitionedRateLimiter.Create<(Guid, TenantRole), (Guid, TenantRole)>(key =>
                RoleOf(key.Item2) is { ConcurrentRequests: > 0 } role
                    ? RateLimitPartition.GetConcurrencyLimiter(key, _ => Concurrency(role.ConcurrentRequests))
                    : RateLimitPartition.GetNoLimiter(key));
        if (options.SubscriptionsPerOrganisation > 0)
            _subscriptions = PartitionedRateLimiter.Create<Guid, Guid>(org =>
                RateLimitPartition.GetConcurrencyLimiter(org, _ => Concurrency(options.SubscriptionsPerOrganisation)));
    }

    /// <summary>One request's share of the rate (HTTP request or WebSocket operation); nothing to release.</summary>
    public RateLimitRefusal? TryTakeRate(RequestTenant tenant)
    {
        if (tenant.OrgId is not { } org)
            return null;
        if (_organisationRate?.AttemptAcquire(org) is { IsAcquired: false } refused)
            return Refuse("organisation_rate", refused,
                $"This organisation sent more than {_options.RequestsPerSecond} requests per second (RateLimits:RequestsPerSecond).");
        if (_roleRate?.AttemptAcquire((org, tenant.Role)) is { IsAcquired: false } refusedRole)
        {
            var role = RoleName(tenant.Role);
            return Refuse("role_rate", refusedRole, $"The {role}s of this organisation sent more than " +
                $"{RoleOf(tenant.Role)!.RequestsPerSecond} requests per second (RateLimits:Roles:{role}:RequestsPerSecond).");
        }
        return null;
    }

    /// <summary>A place among the organisation's HTTP requests in progress, held until <paramref name="held"/> is disposed.</summary>
    public RateLimitRefusal? TryEnter(RequestTenant tenant, out IDisposable? held)
    {
        held = null;
        if (tenant.OrgId is not { } org)
            return null;
        var organisation = _organisationConcurrency?.AttemptAcquire(org);
        if (organisation is { IsAcquired: false })
            return Refuse("organisation_concurrency", organisation,
                $"This organisation already runs {_options.ConcurrentRequests} requests at once (RateLimits:ConcurrentRequests).");
        var role = _roleConcurrency?.AttemptAcquire((org, tenant.Role));
        if (role is { IsAcquired: false })
        {
            organisation?.Dispose();
            var name = RoleName(tenant.Role);
            return Refuse("role_concurrency", role, $"The {name}s of this organisation already run " +
                $"{RoleOf(tenant.Role)!.ConcurrentRequests} requests at once (RateLimits:Roles:{name}:ConcurrentRequests).");
        }
        held = new Leases(organisation, role);
        return null;
    }

    /// <summary>A place among the organisation's open subscriptions, held until <paramref name="held"/> is disposed.</summary>
    public RateLimitRefusal? TryOpenSubscription(Guid org, out IDisposable? held)
    {
        held = null;
        var lease = _subscriptions?.AttemptAcquire(org);
        if (lease is { IsAcquired: false })
            return Refuse("subscriptions", lease, $"This organisation already has {_options.SubscriptionsPerOrganisation} " +
                "subscriptions open on this instance (RateLimits:SubscriptionsPerOrganisation); end one first.");
        held = lease;
        return null;
    }

    private RoleRateLimits? RoleOf(TenantRole role) => _options.Roles.GetValueOrDefault(RoleName(role));

    private static string RoleName(TenantRole role) => role.ToString().ToLowerInvariant();

    private static RateLimitRefusal Refuse(string limit, RateLimitLease lease, string message)
    {
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
        lease.Dispose();
        ServiceTelemetry.RateLimited.Add(1, new KeyValuePair<string, object?>("limit", limit));
        return new RateLimitRefusal(limit, message, retryAfter);
    }

    private static TokenBucketRateLimiterOptions Bucket(int perSecond, int burst) => new()
    {
        TokenLimit = burst > 0 ? burst : perSecond,
        TokensPerPeriod = perSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    private static ConcurrencyLimiterOptions Concurrency(int permits) => new() { PermitLimit = permits, QueueLimit = 0 };

    public void Dispose()
    {
        _organisationRate?.Dispose();
        _roleRate?.Dispose();
        _organisationConcurrency?.Dispose();
        _roleConcurrency?.Dispose();
        _subscriptions?.Dispose();
    }

    private sealed class Leases(RateLimitLease? organisation, RateLimitLease? role) : IDisposable
    {
        public void Dispose()
        {
            role?.Dispose();
            organisation?.Dispose();
        }
    }
}
