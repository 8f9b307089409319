namespace WorkflowGraph.Transport.Http;

/// <summary>
/// A request the transport refuses before GraphQL sees it. It is answered like a GraphQL error
/// (<c>{"errors":[{"message","extensions":{"code"}}]}</c>) so clients need one error path, not two.
/// </summary>
public sealed record HttpProblem(int Status, string Code, string Message)
{
    public static HttpProblem BadRequest(string code, string message) => new(StatusCodes.Status400BadRequest, code, message);

    public static HttpProblem NotAcceptable() => new(StatusCodes.Status406NotAcceptable, "NOT_ACCEPTABLE",
        "The Accept header allows none of the response types this endpoint produces " +
        $"({ResponseMediaType.GraphQLResponseJson}, {ResponseMediaType.Json}).");

    public static HttpProblem UnsupportedMediaType(string? contentType) => new(
        StatusCodes.Status415UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
        string.IsNullOrEmpty(contentType)
            ? "A POST needs Content-Type: application/json."
            : $"Content-Type '{contentType}' is not supported; send application/json (UTF-8).");

    public static HttpProblem TooLarge(long limit) => new(StatusCodes.Status413PayloadTooLarge, "REQUEST_TOO_LARGE",
        $"The request body is larger than {limit} bytes (GraphQL:MaxRequestBytes).");

    /// <summary>No valid bearer token: nothing runs. The endpoint adds <c>WWW-Authenticate</c>.</summary>
    public static HttpProblem Unauthenticated(string message) => new(StatusCodes.Status401Unauthorized, "UNAUTHENTICATED", message);

    /// <summary>The organisation is over one of its limits (RateLimits:*); the endpoint adds <c>Retry-After</c>.</summary>
    public static HttpProblem TooManyRequests(string message) => new(StatusCodes.Status429TooManyRequests, "RATE_LIMITED", message);

    public static HttpProblem MethodNotAllowed(string method) => new(StatusCodes.Status405MethodNotAllowed, "METHOD_NOT_ALLOWED",
        $"{method} is not supported here; use GET for queries or POST.");
}
