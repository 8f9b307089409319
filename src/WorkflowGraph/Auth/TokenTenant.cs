using System.Security.Claims;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Auth;

/// <summary>
/// The one place where a validated token becomes the tenant a request acts for: the HTTP transport and the
/// WebSocket <c>connection_init</c> both end here, so a client can never choose a tenant beyond its token.
/// </summary>
public static class TokenTenant
{
    public const string UserClaim = "sub";
    public const string OrgClaim = "org_id";
    public const string RoleClaim = "role";
    /// <summary>OAuth scopes, space separated (RFC 8693 §4.2); some issuers send one claim per scope instead.</summary>
    public const string ScopeClaim = "scope";
    public const string PhiReadScope = "phi:read";

    /// <returns>True with the tenant when <c>sub</c> and <c>org_id</c> are UUIDs and <c>role</c> a known role,
    /// each exactly once; otherwise false with what is wrong.</returns>
    public static bool TryFrom(ClaimsPrincipal principal, out RequestTenant tenant, out string problem)
    {
        tenant = RequestTenant.Nobody;
        if (!TryGetSingle(principal, OrgClaim, out var org, out problem) || !TryGetSingle(principal, UserClaim, out var user, out problem)
            || !TryGetSingle(principal, RoleClaim, out var roleName, out problem))
            return false;
        if (!Guid.TryParseExact(org, "D", out var orgId))
            return Fail($"its {OrgClaim} claim is not a UUID", out problem);
        if (!Guid.TryParseExact(user, "D", out var userId))
            return Fail($"its {UserClaim} claim is not a UUID", out problem);
        if (ParseRole(roleName) is not { } role)
            return Fail($"its {RoleClaim} claim '{roleName}' is not one of viewer, operator, admin", out problem);
        var phiRead = principal.FindAll(ScopeClaim)
            .SelectMany(claim => claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Contains(PhiReadScope, StringComparer.Ordinal);
        tenant = new RequestTenant(orgId, userId, role, phiRead);
        return true;
    }

    /// <summary>The claim value of each role; matched exactly, so "Admin" or "3" are unknown roles.</summary>
    public static string RoleName(TenantRole role) => role switch
    {
        TenantRole.Viewer => "viewer",
        TenantRole.Operator => "operator",
        TenantRole.Admin => "admin",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "Only viewer, operator and admin appear in tokens."),
    };

    public static TenantRole? ParseRole(string value) => value switch
    {
        "viewer" => TenantRole.Viewer,
        "operator" => TenantRole.Operator,
        "admin" => TenantRole.Admin,
        _ => null,
    };

    private static bool TryGetSingle(ClaimsPrincipal principal, string type, out string value, out string problem)
    {
        var values = principal.FindAll(type).Select(claim => claim.Value).ToList();
        value = values.Count == 1 ? values[0] : "";
        problem = values.Count switch
        {
            1 => "",
            0 => $"it has no {type} claim",
            _ => $"it has more than one {type} claim",
        };
        return values.Count == 1;
    }

    private static bool Fail(string reason, out string problem)
    {
        problem = reason;
        return false;
    }
}
