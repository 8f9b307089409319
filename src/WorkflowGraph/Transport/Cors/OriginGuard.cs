using WorkflowGraph.Transport.Http;

namespace WorkflowGraph.Transport.Cors;

/// <summary>
/// Refuses a request to <c>/graphql</c> whose <c>Origin</c> is neither listed nor the service's own, before anything
/// reads it: 403 with code <c>ORIGIN_NOT_ALLOWED</c>. This covers what CORS alone does not: a browser would hide the
/// answer of a simple POST but the operation would still run, and a WebSocket upgrade is not subject to CORS at all.
/// Requests without <c>Origin</c> (servers, scripts, same-origin navigation) pass.
/// </summary>
internal sealed class OriginGuard(RequestDelegate next, AllowedOrigins origins, GraphQLHttpResponder responder,
    ILogger<OriginGuard> logger)
{
    public const string NotAllowedCode = "ORIGIN_NOT_ALLOWED";

    public async Task InvokeAsync(HttpContext http)
    {
        if (http.Request.Path.StartsWithSegments(GraphQLHttpEndpoint.Path, StringComparison.OrdinalIgnoreCase)
            && http.Request.Headers.Origin is [{ } origin] && !origins.Accepts(http, origin))
        {
            logger.LogInformation("Refused a {Method} of {Path} from origin {Origin}", http.Request.Method, http.Request.Path, origin);
            var problem = new HttpProblem(StatusCodes.Status403Forbidden, NotAllowedCode,
                $"Pages from {origin} may not call this API; an operator lists allowed origins in Cors:AllowedOrigins.");
            await responder.WriteProblemAsync(http, problem, null);
            return;
        }
        await next(http);
    }
}
