using Microsoft.Extensions.DependencyInjection.Extensions;

namespace WorkflowGraph.Transport;

public static class TransportServices
{
    /// <summary>The transports' limits from the <c>GraphQL</c> section (once, whichever transport asks first).</summary>
    public static IServiceCollection AddTransportLimits(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(configuration.GetSection("GraphQL").Get<TransportLimits>() ?? new TransportLimits());
        return services;
    }
}
