using GraphQL;
using GraphQL.Transport;

namespace WorkflowGraph.Api.Http;

/// <summary>POST /graphql (first cut: JSON in, graphql-response+json out).</summary>
public static class GraphQLHttpEndpoint
{
    public static IEndpointRouteBuilder MapGraphQLEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapPost("/graphql", async (HttpContext http, IGraphQLTextSerializer serializer, GraphQLExecution execution) =>
        {
            var request = await serializer.ReadAsync<GraphQLRequest>(http.Request.Body, http.RequestAborted);
            var result = await execution.ExecuteAsync(request!, http.RequestServices, allowMutations: true, http.RequestAborted);
            http.Response.StatusCode = result.Executed ? 200 : 400;
            http.Response.ContentType = "application/graphql-response+json; charset=utf-8";
            await serializer.WriteAsync(http.Response.Body, result, http.RequestAborted);
        });
        return app;
    }
}
