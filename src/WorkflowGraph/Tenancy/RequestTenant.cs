namespace WorkflowGraph.Tenancy;

/// <summary>
/// Who the current request acts for; the database confines it to <see cref="OrgId"/> through RLS. <see cref="PhiRead"/>:
/// the token carries the <c>phi:read</c> scope, so PHI and PII values are shown unmasked.
/// </summary>
public sealed record RequestTenant(Guid? OrgId, Guid? UserId, TenantRole Role = TenantRole.None, bool PhiRead = false)
{
    /// <summary>What a request runs as before (or without) a token: no organisation, so RLS returns no rows.</summary>
    public static readonly RequestTenant Nobody = new(null, null, TenantRole.None);

    /// <summary>
    /// The tenant a transport authenticated for this request or WebSocket connection (it sets the feature once the
    /// token is valid), or <see cref="Nobody"/>.
    /// </summary>
    public static RequestTenant Of(HttpContext? http) => http?.Features.Get<RequestTenant>() ?? Nobody;
}
