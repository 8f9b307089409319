using WorkflowGraph.Hosting;

namespace WorkflowGraph.Transport.Cors;

public static class CorsServices
{
    public const string PolicyName = "graphql";

    /// <summary>
    /// ASP.NET Core's CORS policy for <c>/graphql</c> (GET and POST with Authorization and Content-Type, preflights
    /// cached for <see cref="CorsOptions.PreflightMaxAgeSeconds"/>) over <see cref="AllowedOrigins"/>. Development:
    /// <see cref="DevelopmentMode"/>.
    /// </summary>
    public static IServiceCollection AddGraphQLCors(this IServiceCollection services, IConfiguration configuration,
        IHostEnvironment environment)
    {
        var options = configuration.GetSection(CorsOptions.Section).Get<CorsOptions>() ?? new CorsOptions();
        var origins = AllowedOrigins.From(options, DevelopmentMode.Is(configuration, environment));
        services.AddSingleton(origins);
        services.AddCors(cors => cors.AddPolicy(PolicyName, policy => policy
            .SetIsOriginAllowed(origins.IsListed)
            .WithMethods(HttpMethods.Get, HttpMethods.Post)
            .WithHeaders("Authorization", "Content-Type")
            .SetPreflightMaxAge(TimeSpan.FromSeconds(options.PreflightMaxAgeSeconds))));
        return services;
    }

    /// <summary>The origin check, then CORS (which answers preflights itself); both before the WebSocket and HTTP transports.</summary>
    public static IApplicationBuilder UseGraphQLCors(this IApplicationBuilder app) =>
        app.UseMiddleware<OriginGuard>().UseCors(PolicyName);
}
