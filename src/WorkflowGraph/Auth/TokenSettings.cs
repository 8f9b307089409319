using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

namespace WorkflowGraph.Auth;

/// <summary>The validated <c>Auth</c> section, resolved once: which keys sign tokens and what a token must say.</summary>
public sealed class TokenSettings
{
    private TokenSettings(AuthMode mode, SymmetricSecurityKey? key, Uri? authority, string? issuer, string audience, string? keyFile)
    {
        Mode = mode;
        Key = key;
        Authority = authority;
        Issuer = issuer;
        Audience = audience;
        KeyFile = keyFile;
    }

    public AuthMode Mode { get; }

    /// <summary>How far a token's times may be off, for both transports: HTTP accepts a token until its expiry plus this,
    /// and a WebSocket opened with it lasts as long (<c>Auth:ClockSkewSeconds</c>).</summary>
    public TimeSpan ClockSkew { get; private init; } = TimeSpan.FromSeconds(AuthOptions.DefaultClockSkewSeconds);

    /// <summary>The HS256 key (configured or generated); null with an authority.</summary>
    public SymmetricSecurityKey? Key { get; }

    public Uri? Authority { get; }

    /// <summary>The required <c>iss</c>; null with an authority and no Auth:Issuer, where its discovery document decides.</summary>
    public string? Issuer { get; }

    public string Audience { get; }

    /// <summary>Development mode only: the file its generated key is kept in (null: in memory only).</summary>
    public string? KeyFile { get; }

    /// <summary>The key configured as <c>Auth:SigningKey</c>: the UTF-8 bytes of the value.</summary>
    public static SymmetricSecurityKey KeyFrom(string value) => new(Encoding.UTF8.GetBytes(value));

    /// <param name="developmentKeys">Development mode's key, used when neither a key nor an authority is configured.</param>
    public static TokenSettings Resolve(AuthOptions options, IDevelopmentKeyStore? developmentKeys) =>
        ResolveKeys(options, developmentKeys).With(TimeSpan.FromSeconds(Math.Max(0, options.ClockSkewSeconds)));

    private TokenSettings With(TimeSpan clockSkew) => new(Mode, Key, Authority, Issuer, Audience, KeyFile) { ClockSkew = clockSkew };

    private static TokenSettings ResolveKeys(AuthOptions options, IDevelopmentKeyStore? developmentKeys)
    {
        var audience = Blank(options.Audience) ?? AuthOptions.DefaultAudience;
        if (options.HasSigningKey)
            return new(AuthMode.SigningKey, KeyFrom(options.SigningKey!), null,
                Blank(options.Issuer) ?? AuthOptions.DefaultIssuer, audience, null);
        if (options.HasAuthority)
        {
            AuthorityUri.TryParse(options.Authority!, out var authority);
            return new(AuthMode.Authority, null, authority, Blank(options.Issuer), audience, null);
        }
        var issuer = Blank(options.Issuer) ?? AuthOptions.DefaultIssuer;
        if (developmentKeys is null)
            throw new InvalidOperationException("Neither Auth:SigningKey nor Auth:Authority is set; configure one of them.");
        var (value, file) = developmentKeys.LoadOrCreate(options.DevelopmentKeyFile);
        return new(AuthMode.Development, KeyFrom(value), null, issuer, audience, file);
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
