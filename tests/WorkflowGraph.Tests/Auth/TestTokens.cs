using Microsoft.AspNetCore.Hosting;
using Microsoft.IdentityModel.Tokens;
using WorkflowGraph.Auth;
using WorkflowGraph.Development;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Tests.Auth;

/// <summary>The signing key every app under test is configured with, and tokens signed by it.</summary>
public static class TestTokens
{
    /// <summary>48 bytes of UTF-8, above the 32 that HS256 needs.</summary>
    public const string SigningKey = "workflowgraph-tests-only-signing-key-0123456789";

    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    public static SymmetricSecurityKey Key { get; } = TokenSettings.KeyFrom(SigningKey);

    public static string For(Guid org, Guid user, TenantRole role = TenantRole.Admin) =>
        DevelopmentTokens.Create(Key, org, user, role, Lifetime);

    /// <summary>An <c>Authorization</c> header value.</summary>
    public static string Bearer(Guid org, Guid user, TenantRole role = TenantRole.Admin) => "Bearer " + For(org, user, role);

    /// <summary>An <c>Authorization</c> header value whose token carries the OAuth <c>scope</c> claim as given.</summary>
    public static string BearerWithScope(Guid org, Guid user, TenantRole role, string scope) =>
        "Bearer " + DevelopmentTokens.Sign(Key, new Dictionary<string, object>
        {
            [TokenTenant.UserClaim] = user.ToString(),
            [TokenTenant.OrgClaim] = org.ToString(),
            [TokenTenant.RoleClaim] = TokenTenant.RoleName(role),
            ["scope"] = scope,
        }, Lifetime);

    /// <summary>Configures the app under test to accept tokens signed with <see cref="SigningKey"/>.</summary>
    public static IWebHostBuilder UseTestSigningKey(this IWebHostBuilder host) => host.UseSetting("Auth:SigningKey", SigningKey);
}
