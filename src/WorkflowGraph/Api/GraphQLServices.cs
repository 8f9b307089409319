using System.Text.Encodings.Web;
using GraphQL;
using GraphQL.Execution;
using GraphQL.Validation;
using GraphQLParser.AST;
using GraphQL.SystemTextJson;
using GraphQL.Types;
using WorkflowGraph.Querying;

namespace WorkflowGraph.Api;

public static class GraphQLServices
{
    public const string OrgHeader = "X-Org-Id";
    public const string UserHeader = "X-User-Id";

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
            ]), [new DocumentCache()]));
        // responses are JSON with a JSON content type, never inlined into HTML: escape only what JSON requires
        services.AddSingleton<IGraphQLTextSerializer>(new GraphQLSerializer(options => options.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping));
        services.AddSingleton<GraphQLExecution>();
        services.AddHttpContextAccessor();
        // Until authentication lands the tenant comes from development headers; no header means no rows.
        services.AddScoped(provider => TenantFromHeaders(provider.GetRequiredService<IHttpContextAccessor>().HttpContext));
        services.AddScoped<RequestDatabase>();
        return services;
    }

    private static RequestTenant TenantFromHeaders(HttpContext? http)
    {
        static Guid? Read(HttpContext? http, string header) =>
            http is not null && Guid.TryParse(http.Request.Headers[header].ToString(), out var id) ? id : null;
        return new RequestTenant(Read(http, OrgHeader), Read(http, UserHeader));
    }
}
