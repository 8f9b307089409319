using WorkflowGraph.Execution;

namespace WorkflowGraph.Transport.WebSockets;

public static class GraphQLWebSocketServices
{
    /// <summary>The WebSocket transport of <see cref="GraphQLExecution"/> (graphql-transport-ws on <c>/graphql</c>).</summary>
    public static IServiceCollection AddGraphQLWebSockets(this IServiceCollection services, IConfiguration configuration) =>
        services.AddTransportLimits(configuration).AddSingleton<OrganisationSendBudgets>().AddSingleton<ConnectionClock>()
            .AddSingleton<GraphQLWsServices>();

    /// <summary>Before the endpoints: <c>/graphql</c>'s endpoint takes every method, upgrades included.</summary>
    public static IApplicationBuilder UseGraphQLWebSockets(this IApplicationBuilder app) =>
        app.UseWebSockets().UseMiddleware<GraphQLWebSocketMiddleware>();
}
