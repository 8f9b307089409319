using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;

namespace WorkflowGraph.Auth;

/// <summary>Resolves the token settings while the host starts and says which mode is in force.</summary>
internal sealed class AuthStartup(TokenSettings settings, IOptionsMonitor<JwtBearerOptions> bearerOptions, ILogger<AuthStartup> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        // JwtBearer's post-configuration (an authority's metadata address) fails here rather than on the first request.
        _ = bearerOptions.Get(JwtBearerDefaults.AuthenticationScheme);
        switch (settings.Mode)
        {
            case AuthMode.Authority:
                logger.LogInformation("Bearer tokens from authority {Authority}, audience {Audience}",
                    settings.Authority, settings.Audience);
                break;
            case AuthMode.SigningKey:
                logger.LogInformation("Bearer tokens signed with Auth:SigningKey (HS256), issuer {Issuer}, audience {Audience}",
                    settings.Issuer, settings.Audience);
                break;
            case AuthMode.Development:
                logger.LogWarning("Development mode: neither Auth:SigningKey nor Auth:Authority is set, so tokens are signed with a " +
                                  "generated key ({Where}). Configure Auth__SigningKey or Auth__Authority outside development.",
                    settings.KeyFile ?? "in memory only");
                break;
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
