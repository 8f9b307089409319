using System.Text.Encodings.Web;
using GraphQL;
using GraphQL.Execution;
using GraphQL.SystemTextJson;
using GraphQL.Types;
using GraphQLParser.AST;
using Npgsql;
using WorkflowGraph.Database;
using WorkflowGraph.Querying;
using WorkflowGraph.SchemaBinding;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Execution;

public static class GraphQLServices
{
    /// <summary>The schema, the engine and the per-request database session.</summary>
    public static IServiceCollection AddGraphQLApi(this IServiceCollection services, IConfiguration configuration,
        IEnumerable<IGraphFeature> features)
    {
        var limits = configuration.GetSection("GraphQL").Get<QueryLimits>() ?? new QueryLimits();
        services.AddSingleton(limits);
        services.AddSingleton(_ => GraphModel.Build(limits, features));
        services.AddSingleton<ISchema>(provider => SchemaBinder.Bind(provider.GetRequiredService<GraphModel>(), SchemaDocument.Text));
        services.AddSingleton<IDocumentExecuter>(_ => new DocumentExecuter(new GraphQLDocumentBuilder(), new CachedDocumentValidator(),
            new DefaultExecutionStrategySelector([
                new ExecutionStrategyRegistration(new RawJsonParallelExecutionStrategy(), OperationType.Query),
                new ExecutionStrategyRegistration(new RawJsonSerialExecutionStrategy(), OperationType.Mutation),
                new ExecutionStrategyRegistration(new RawJsonSubscriptionExecutionStrategy(), OperationType.Subscription),
            ]), [new DocumentCache()]));
        // responses are JSON with a JSON content type, never inlined into HTML: escape only what JSON requires
        services.AddSingleton<IGraphQLTextSerializer>(
            new GraphQLSerializer(options => options.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping));
        services.AddSingleton<GraphQLExecution>();
        services.AddHttpContextAccessor();
        // The tenant is what the request's validated bearer token says (the transport refuses a request without one);
        // outside an authenticated request it is nobody, and RLS returns no rows.
        services.AddScoped(provider => RequestTenant.Of(provider.GetRequiredService<IHttpContextAccessor>().HttpContext));
        // the request's transaction; its statement_timeout is the execution timeout
        // (queries on the read replica when there is one; see ReplicaRouting)
        // PHI access records of concurrent responses commit together (one writer per instance)
        services.AddSingleton<PhiAccessBatcher>();
        services.AddScoped(provider => new RequestDatabase(provider.GetRequiredService<NpgsqlDataSource>(),
            provider.GetRequiredService<RequestTenant>(), TimeSpan.FromSeconds(limits.ExecutionTimeoutSeconds),
            provider.GetServices<IStatementObserver>(), provider.GetService<ReadReplica>(),
            string.Equals(provider.GetRequiredService<IHttpContextAccessor>().HttpContext?.Request.Headers[RequestDatabase.ReadFromHeader],
                "primary", StringComparison.OrdinalIgnoreCase), provider.GetRequiredService<PhiAccessBatcher>()));
        return services;
    }
}
