using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace WorkflowGraph.Auth;

public static class AuthServices
{
    /// <summary>
    /// JWT bearer tokens from <c>Auth:SigningKey</c> or <c>Auth:Authority</c>, or development mode's generated key.
    /// The configuration is read when the host starts (so hosts such as WebApplicationFactory can add to it) and a
    /// bad one stops the start.
    /// </summary>
    public static IServiceCollection AddWorkflowGraphAuth(this IServiceCollection services)
    {
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidation>();
        services.AddSingleton(provider => TokenSettings.Resolve(provider.GetRequiredService<IOptions<AuthOptions>>().Value,
            provider.GetService<IDevelopmentKeyStore>()));
        // JwtBearer's options, token handlers and post-configuration (an authority's discovery document), but not its
        // authentication scheme: TokenAuthenticator validates for the HTTP and WebSocket transports alike. A scheme
        // would make ASP.NET Core add UseAuthentication() by itself and validate every token a second time.
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<TokenSettings>((options, settings) => settings.ApplyTo(options));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<JwtBearerOptions>, JwtBearerPostConfigureOptions>());
        services.AddSingleton<TokenAuthenticator>();
        services.AddHostedService<AuthStartup>();
        return services;
    }
}

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
                logger.LogInformation("Bearer tokens from authority {Authority}, audience {Audience}", settings.Authority, settings.Audience);
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
