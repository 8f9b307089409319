using WorkflowGraph.Auth;

namespace WorkflowGraph.Hosting;

/// <summary>
/// Whether the service runs for a developer: the host's Development environment, or the service's own development
/// mode (neither a signing key nor an authority, so it generates a key and prints tokens). Conveniences that must
/// never reach production (dev-server origins, raw documents beside trusted ones) ask here.
/// </summary>
public static class DevelopmentMode
{
    public static bool Is(IConfiguration configuration, IHostEnvironment environment)
    {
        var auth = configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        return environment.IsDevelopment() || !(auth.HasSigningKey || auth.HasAuthority);
    }
}
