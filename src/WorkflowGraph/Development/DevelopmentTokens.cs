using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using WorkflowGraph.Auth;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Development;

/// <summary>
/// Issues HS256 tokens the way an identity provider would for this API: development mode prints them, tests sign
/// theirs (valid or deliberately wrong) with it.
/// </summary>
public static class DevelopmentTokens
{
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromDays(30);

    // Times are always given, so the handler adds none of its own (it would put nbf after a test's past exp).
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>A token for <paramref name="user"/> of <paramref name="org"/> acting as <paramref name="role"/>.</summary>
    public static string Create(SecurityKey key, Guid org, Guid user, TenantRole role, TimeSpan lifetime,
        string issuer = AuthOptions.DefaultIssuer, string audience = AuthOptions.DefaultAudience, DateTime? issuedAt = null) =>
        Sign(key, new Dictionary<string, object>
        {
            [TokenTenant.UserClaim] = user.ToString(),
            [TokenTenant.OrgClaim] = org.ToString(),
            [TokenTenant.RoleClaim] = TokenTenant.RoleName(role),
        }, lifetime, issuer, audience, issuedAt);

    /// <summary>A token with exactly these claims (besides iss, aud, iat, nbf and exp).</summary>
    public static string Sign(SecurityKey key, IDictionary<string, object> claims, TimeSpan lifetime,
        string issuer = AuthOptions.DefaultIssuer, string audience = AuthOptions.DefaultAudience, DateTime? issuedAt = null)
    {
        var now = issuedAt ?? DateTime.UtcNow;
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Claims = claims,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
        });
    }
}
