using Microsoft.Extensions.Options;

namespace WorkflowGraph.Auth;

/// <summary>Refuses to start on a configuration that would accept weak or ambiguous tokens.</summary>
internal sealed class AuthOptionsValidation : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        if (options.HasSigningKey && options.HasAuthority)
            return ValidateOptionsResult.Fail("Auth:SigningKey and Auth:Authority are both set; configure one of them.");
        if (options.HasSigningKey && System.Text.Encoding.UTF8.GetByteCount(options.SigningKey!) is var bytes
            && bytes < AuthOptions.MinimumKeyBytes)
            return ValidateOptionsResult.Fail(
                $"Auth:SigningKey is {bytes} bytes long; HS256 needs at least {AuthOptions.MinimumKeyBytes} " +
                "(the key is the UTF-8 bytes of the value). Generate one with: openssl rand -hex 32");
        if (options.HasAuthority && !AuthorityUri.TryParse(options.Authority!, out _))
            return ValidateOptionsResult.Fail(
                $"Auth:Authority '{options.Authority}' is not an absolute https URL (http is accepted for loopback hosts only).");
        if (!double.IsFinite(options.TokenCacheSeconds) || options.TokenCacheSeconds is < 0 or > 3600)
            return ValidateOptionsResult.Fail($"Auth:TokenCacheSeconds is {options.TokenCacheSeconds}; use 0 (off) to 3600.");
        if (options.TokenCacheEntries < 0)
            return ValidateOptionsResult.Fail($"Auth:TokenCacheEntries is {options.TokenCacheEntries}; use 0 (off) or more.");
        return ValidateOptionsResult.Success;
    }
}
