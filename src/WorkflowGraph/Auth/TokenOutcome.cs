using System.Security.Claims;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Auth;

/// <summary>The result of checking an <c>Authorization</c> value: a tenant, or why there is none.</summary>
public sealed record TokenOutcome(RequestTenant? Tenant, ClaimsPrincipal? Principal, string Problem, bool TokenSent)
{
    public bool Succeeded => Tenant is not null;

    public static TokenOutcome Missing { get; } = new(null, null,
        "Authentication required: send Authorization: Bearer <JWT> (claims sub, org_id, role).", TokenSent: false);

    public static TokenOutcome Refused(string reason) => new(null, null, $"The bearer token was refused: {reason}.", TokenSent: true);
}
