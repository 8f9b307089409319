namespace WorkflowGraph.Auth;

/// <summary>
/// The <c>Auth</c> configuration section. A signing key (HS256) or an OIDC authority; with neither the service runs
/// in development mode (<see cref="IDevelopmentKeyStore"/>).
/// </summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";
    public const string DefaultIssuer = "workflowgraph";
    public const string DefaultAudience = "workflowgraph";
    /// <summary>HS256 with a shorter key is brute-forceable; RFC 7518 §3.2 asks for at least the hash size.</summary>
    public const int MinimumKeyBytes = 32;
    /// <summary>Small, because tokens carry their own expiry; enough for clocks that drift a little.</summary>
    public const double DefaultClockSkewSeconds = 30;

    /// <summary>HS256 key: the UTF-8 bytes of this value.</summary>
    public string? SigningKey { get; set; }

    /// <summary>An OIDC issuer whose discovery document names the signing keys (and the issuer).</summary>
    public string? Authority { get; set; }

    public string? Issuer { get; set; }

    public string? Audience { get; set; }

    /// <summary>Development mode only: where the generated key is kept so that tokens survive a restart.</summary>
    public string? DevelopmentKeyFile { get; set; }

    /// <summary>How far a token's times may be off (both transports).</summary>
    public double ClockSkewSeconds { get; set; } = DefaultClockSkewSeconds;

    /// <summary>How long a validated token is remembered at most (also bounded by its expiry); 0 turns that off.</summary>
    public double TokenCacheSeconds { get; set; } = 60;

    /// <summary>How many validated tokens are remembered at most.</summary>
    public int TokenCacheEntries { get; set; } = 10_000;

    public bool HasSigningKey => !string.IsNullOrEmpty(SigningKey);

    public bool HasAuthority => !string.IsNullOrWhiteSpace(Authority);
}
