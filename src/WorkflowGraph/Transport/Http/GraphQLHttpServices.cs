using WorkflowGraph.Execution;
using WorkflowGraph.Transport.Ide;

namespace WorkflowGraph.Transport.Http;

public static class GraphQLHttpServices
{
    /// <summary>The HTTP transport of <see cref="GraphQLExecution"/> and the IDE it serves to browsers.</summary>
    public static IServiceCollection AddGraphQLHttp(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddTransportLimits(configuration);
        services.AddSingleton<GraphQLRequestReader>();
        services.AddSingleton<GraphQLHttpResponder>();
        services.AddBananaCakePop();
        return services;
    }
}
