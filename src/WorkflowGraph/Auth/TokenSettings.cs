using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;
using WorkflowGraph.Development;

namespace WorkflowGraph.Auth;

public enum AuthMode { SigningKey, Authority, Development }

/// <summary>The validated <c>Auth</c> section, resolved once: which keys sign tokens and what a token must say.</summary>
public sealed class TokenSettings
{
    /// <summary>Small, because tokens carry their own expiry; enough for clocks that drift a little.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    private TokenSettings(AuthMode mode, SymmetricSecurityKey? key, Uri? authority, string? issuer, string audience, DevelopmentLogin? development)
    {
        Mode = mode;
        Key = key;
        Authority = authority;
        Issuer = issuer;
        Audience = audience;
        Development = development;
    }

    public AuthMode Mode { get; }

    /// <summary>The HS256 key (configured or generated); null with an authority.</summary>
    public SymmetricSecurityKey? Key { get; }

    public Uri? Authority { get; }

    /// <summary>The required <c>iss</c>; null with an authority and no Auth:Issuer, where its discovery document decides.</summary>
    public string? Issuer { get; }

    public string Audience { get; }

    /// <summary>Development mode's ready tokens; null whenever a real key or authority is configured.</summary>
    public DevelopmentLogin? Development { get; }

    public static TokenSettings Resolve(AuthOptions options, IHostEnvironment environment, ILogger logger)
    {
        var audience = Blank(options.Audience) ?? AuthOptions.DefaultAudience;
        if (options.HasSigningKey)
            return new(AuthMode.SigningKey, DevelopmentTokens.KeyFrom(options.SigningKey!), null,
                Blank(options.Issuer) ?? AuthOptions.DefaultIssuer, audience, null);
        if (options.HasAuthority)
        {
            AuthorityUri.TryParse(options.Authority!, out var authority);
            return new(AuthMode.Authority, null, authority, Blank(options.Issuer), audience, null);
        }
        var issuer = Blank(options.Issuer) ?? AuthOptions.DefaultIssuer;
        var (value, file) = DevelopmentKey.LoadOrCreate(options.DevelopmentKeyFile, environment, logger);
        var key = DevelopmentTokens.KeyFrom(value);
        return new(AuthMode.Development, key, null, issuer, audience, DevelopmentLogin.Create(key, issuer, audience, file));
    }

    public void ApplyTo(JwtBearerOptions options)
    {
        // Claims keep their JWT names (sub, org_id, role) instead of the legacy WS-* claim URIs.
        options.MapInboundClaims = false;
        if (Authority is not null)
        {
            options.Authority = Authority.ToString();
            options.RequireHttpsMetadata = Authority.Scheme == Uri.UriSchemeHttps;
        }
        options.Audience = Audience;
        options.TokenValidationParameters = new TokenValidationParameters
        {
            ValidateIssuer = true,
            ValidIssuer = Issuer,
            ValidateAudience = true,
            ValidAudience = Audience,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = ClockSkew,
            ValidateIssuerSigningKey = true,
            RequireSignedTokens = true,
            IssuerSigningKey = Key,
            // A shared key only ever signs HS256; an authority's discovery document names its own algorithms.
            ValidAlgorithms = Key is null ? null : [SecurityAlgorithms.HmacSha256],
            NameClaimType = TokenTenant.UserClaim,
            RoleClaimType = TokenTenant.RoleClaim,
        };
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
