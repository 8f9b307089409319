using System.Text.Encodings.Web;
using GraphQL;
using GraphQL.Execution;
using GraphQL.SystemTextJson;
using GraphQL.Types;
using GraphQL.Validation;
using GraphQLParser.AST;
using WorkflowGraph.Auth;
using WorkflowGraph.Querying;
using WorkflowGraph.Subscriptions;

namespace WorkflowGraph.Api;

public static class GraphQLServices
{
    /// <summary>The schema, the engine and the per-request database session.</summary>
    public static IServiceCollection AddGraphQLApi(this IServiceCollection services, IConfiguration configuration)
    {
        var limits = configuration.GetSection("GraphQL").Get<QueryLimits>() ?? new QueryLimits();
        services.AddSingleton(limits);
        services.AddSingleton(_ => WorkflowSchema.CreateModel(limits));
        services.AddSingleton<ISchema>(provider => WorkflowSchema.Create(provider.GetRequiredService<GraphModel>(), SchemaDocument.Text));
        services.AddSingleton<IDocumentExecuter>(_ => new DocumentExecuter(new GraphQLDocumentBuilder(), new DocumentValidator(),
            new DefaultExecutionStrategySelector([
                new ExecutionStrategyRegistration(new RawJsonParallelExecutionStrategy(), OperationType.Query),
                new ExecutionStrategyRegistration(new RawJsonSerialExecutionStrategy(), OperationType.Mutation),
                new ExecutionStrategyRegistration(new RawJsonSubscriptionExecutionStrategy(), OperationType.Subscription),
            ]), [new DocumentCache()]));
        // responses are JSON with a JSON content type, never inlined into HTML: escape only what JSON requires
        services.AddSingleton<IGraphQLTextSerializer>(new GraphQLSerializer(options => options.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping));
        services.AddSingleton<GraphQLExecution>();
        services.AddHttpContextAccessor();
        // The tenant is what the request's validated bearer token says (the transport refuses a request without one);
        // outside an authenticated request it is nobody, and RLS returns no rows.
        services.AddScoped(provider => TokenTenant.Of(provider.GetRequiredService<IHttpContextAccessor>().HttpContext));
        services.AddScoped<RequestDatabase>();
        services.AddSingleton(configuration.GetSection("GraphQL").Get<EventFeedOptions>() ?? new EventFeedOptions());
        services.AddSingleton<EventFeed>();
        services.AddSingleton<EventHub>();
        services.AddHostedService(provider => provider.GetRequiredService<EventHub>());
        return services;
    }
}
