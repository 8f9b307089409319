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
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<AuthOptions>>().Value;
            return new ValidatedTokenCache(provider.GetRequiredService<TimeProvider>(),
                TimeSpan.FromSeconds(Math.Max(0, options.TokenCacheSeconds)), Math.Max(0, options.TokenCacheEntries));
        });
        services.AddSingleton<TokenAuthenticator>();
        services.AddHostedService<AuthStartup>();
        return services;
    }
}
