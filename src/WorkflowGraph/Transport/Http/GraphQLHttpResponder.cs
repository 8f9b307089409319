using GraphQL;
using WorkflowGraph.Execution;

namespace WorkflowGraph.Transport.Http;

/// <summary>Status codes and bodies of GraphQL over HTTP for a result or a refused request.</summary>
public sealed class GraphQLHttpResponder(IGraphQLTextSerializer serializer)
{
    public Task WriteResultAsync(HttpContext http, ExecutionResult result, string mediaType)
    {
        if (result.Errors?.Any(error => error.Code == OperationTypeRule.MutationNotAllowed) == true)
        {
            // The spec requires 405 for a mutation over GET whatever the media type; Allow says how to send it.
            http.Response.Headers.Allow = HttpMethods.Post;
            return WriteAsync(http, StatusCodes.Status405MethodNotAllowed, result, mediaType);
        }
        // application/json answers 200 to every well-formed request (legacy clients read errors from the body);
        // graphql-response+json tells "not executed" (parse, validation or variable errors) apart with a 400, and a
        // request that has no data because the database was unavailable with a 503 (and when to try again)
        if (mediaType == ResponseMediaType.GraphQLResponseJson && result.Executed && HasNoData(result)
            && result.Errors?.Any(error => error.Code == GraphQLExecution.DatabaseUnavailableCode) == true)
        {
            http.Response.Headers.RetryAfter = "1";
            return WriteAsync(http, StatusCodes.Status503ServiceUnavailable, result, mediaType);
        }
        var status = mediaType == ResponseMediaType.Json || result.Executed ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest;
        return WriteAsync(http, status, result, mediaType);
    }

    private static bool HasNoData(ExecutionResult result) =>
        result.Data is null || (result.Data is GraphQL.Execution.ExecutionNode root && root.ToValue() is null);

    /// <param name="mediaType">The negotiated type, or null when negotiation itself failed (then plain JSON).</param>
    public Task WriteProblemAsync(HttpContext http, HttpProblem problem, string? mediaType)
    {
        var result = new ExecutionResult { Errors = [new ExecutionError(problem.Message) { Code = problem.Code }] };
        return WriteAsync(http, problem.Status, result, mediaType ?? ResponseMediaType.Json);
    }

    private async Task WriteAsync(HttpContext http, int status, ExecutionResult result, string mediaType)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = mediaType + "; charset=utf-8";
        // The same GET answers in two media types (and statuses); caches must key on Accept.
        http.Response.Headers.Vary = "Accept";
        await serializer.WriteAsync(http.Response.Body, result, http.RequestAborted);
    }
}
