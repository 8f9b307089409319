using Microsoft.Extensions.Options;

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

    /// <summary>HS256 key: the UTF-8 bytes of this value.</summary>
    public string? SigningKey { get; set; }

    /// <summary>An OIDC issuer whose discovery document names the signing keys (and the issuer).</summary>
    public string? Authority { get; set; }

    public string? Issuer { get; set; }

    public string? Audience { get; set; }

    /// <summary>Development mode only: where the generated key is kept so that tokens survive a restart.</summary>
    public string? DevelopmentKeyFile { get; set; }

    public bool HasSigningKey => !string.IsNullOrEmpty(SigningKey);

    public bool HasAuthority => !string.IsNullOrWhiteSpace(Authority);
}

/// <summary>Refuses to start on a configuration that would accept weak or ambiguous tokens.</summary>
internal sealed class AuthOptionsValidation : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        if (options.HasSigningKey && options.HasAuthority)
            return ValidateOptionsResult.Fail("Auth:SigningKey and Auth:Authority are both set; configure one of them.");
        if (options.HasSigningKey && System.Text.Encoding.UTF8.GetByteCount(options.SigningKey!) is var bytes && bytes < AuthOptions.MinimumKeyBytes)
            return ValidateOptionsResult.Fail(
                $"Auth:SigningKey is {bytes} bytes long; HS256 needs at least {AuthOptions.MinimumKeyBytes} (the key is the UTF-8 bytes of the value). " +
                "Generate one with: openssl rand -hex 32");
        if (options.HasAuthority && !AuthorityUri.TryParse(options.Authority!, out _))
            return ValidateOptionsResult.Fail(
                $"Auth:Authority '{options.Authority}' is not an absolute https URL (http is accepted for loopback hosts only).");
        return ValidateOptionsResult.Success;
    }
}

internal static class AuthorityUri
{
    public static bool TryParse(string value, out Uri uri) =>
        Uri.TryCreate(value.Trim(), UriKind.Absolute, out uri!)
        && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback));
}
