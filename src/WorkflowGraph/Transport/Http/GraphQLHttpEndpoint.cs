using GraphQL.Transport;
using WorkflowGraph.Auth;
using WorkflowGraph.Execution;
using WorkflowGraph.RateLimiting;
using WorkflowGraph.SchemaBinding;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Transport.Cors;
using WorkflowGraph.Transport.Ide;
using WorkflowGraph.Transport.Persisted;

namespace WorkflowGraph.Transport.Http;

/// <summary>
/// <c>/graphql</c> per GraphQL over HTTP: POST runs anything, GET runs queries only (mutations get a 405),
/// <c>GET ?sdl</c> returns the schema text, and a browser navigating here gets Banana Cake Pop. Running an operation
/// takes a valid bearer token (401 without one, before anything is read or run); the SDL and the IDE do not.
/// </summary>
public static class GraphQLHttpEndpoint
{
    public const string Path = "/graphql";

    public static IEndpointRouteBuilder MapGraphQLEndpoint(this IEndpointRouteBuilder app)
    {
        // Every method lands here, so the ones we do not serve get a 405 with Allow rather than a 404.
        app.Map(Path, DispatchAsync);
        app.MapBananaCakePop(Path);
        return app;
    }

    private static Task DispatchAsync(HttpContext http) =>
        HttpMethods.IsGet(http.Request.Method) ? GetAsync(http)
        : HttpMethods.IsPost(http.Request.Method) ? PostAsync(http)
        : RefuseMethodAsync(http);

    private static async Task PostAsync(HttpContext http)
    {
        var responder = http.RequestServices.GetRequiredService<GraphQLHttpResponder>();
        if (await AdmitAsync(http, responder) is not { } mediaType)
            return;
        var reader = http.RequestServices.GetRequiredService<GraphQLRequestReader>();
        var (request, problem) = await reader.ReadPostAsync(http.Request, http.RequestAborted);
        await ExecuteAsync(http, responder, mediaType, request, problem, GraphQLTransport.HttpPost);
    }

    /// <summary>
    /// The token, the organisation's limits and the Accept header, checked before the request is read; null once a
    /// refusal was written. The place among the organisation's requests in progress is held until the response ends.
    /// </summary>
    private static async Task<string?> AdmitAsync(HttpContext http, GraphQLHttpResponder responder)
    {
        if (!await AuthenticateAsync(http, responder))
            return null;
        if (!await LimitAsync(http, responder))
            return null;
        if (ResponseMediaType.Negotiate(http.Request.Headers.Accept) is { } mediaType)
            return mediaType;
        await responder.WriteProblemAsync(http, HttpProblem.NotAcceptable(), null);
        return null;
    }

    /// <summary>Answers 429 with <c>Retry-After</c> and a <c>RATE_LIMITED</c> error when the organisation is over a limit.</summary>
    private static async Task<bool> LimitAsync(HttpContext http, GraphQLHttpResponder responder)
    {
        var limiter = http.RequestServices.GetRequiredService<OrganisationLimiter>();
        var tenant = RequestTenant.Of(http);
        var refusal = limiter.TryTakeRate(tenant);
        if (refusal is null)
        {
            refusal = limiter.TryEnter(tenant, out var held);
            if (held is not null)
                http.Response.RegisterForDispose(held);
        }
        if (refusal is null)
            return true;
        http.Response.Headers.RetryAfter = refusal.RetryAfterHeader;
        await responder.WriteProblemAsync(http, HttpProblem.TooManyRequests(refusal.Message),
            ResponseMediaType.Negotiate(http.Request.Headers.Accept));
        return false;
    }

    private static async Task GetAsync(HttpContext http)
    {
        var parameters = http.Request.Query;
        if (parameters.ContainsKey("sdl"))
        {
            http.Response.ContentType = "text/plain; charset=utf-8";
            await http.Response.WriteAsync(SchemaDocument.Text, http.RequestAborted);
            return;
        }
        if (!parameters.ContainsKey("query") && ResponseMediaType.WantsHtml(http.Request.Headers.Accept))
        {
            await http.RequestServices.GetRequiredService<BananaCakePop>().ServeIdeAsync(http, Path);
            return;
        }
        var responder = http.RequestServices.GetRequiredService<GraphQLHttpResponder>();
        if (await AdmitAsync(http, responder) is not { } mediaType)
            return;
        var (request, problem) = http.RequestServices.GetRequiredService<GraphQLRequestReader>().ReadGet(parameters);
        // GraphQLExecution refuses mutations on GET (MUTATION_NOT_ALLOWED), answered with 405.
        await ExecuteAsync(http, responder, mediaType, request, problem, GraphQLTransport.HttpGet);
    }

    private static async Task ExecuteAsync(HttpContext http, GraphQLHttpResponder responder, string mediaType,
        GraphQLRequest? request, HttpProblem? problem, GraphQLTransport transport)
    {
        // a request that names a persisted document gets it here, before anything runs
        problem ??= http.RequestServices.GetRequiredService<PersistedDocuments>().Resolve(request!, AllowedOrigins.FromOwnPage(http));
        if (problem is not null)
        {
            await responder.WriteProblemAsync(http, problem, mediaType);
            return;
        }
        // The request's scope owns its database session (RequestDatabase); GraphQLExecution commits mutations.
        var execution = http.RequestServices.GetRequiredService<GraphQLExecution>();
        var result = await execution.ExecuteAsync(request!, http.RequestServices, transport, http.RequestAborted);
        await responder.WriteResultAsync(http, result, mediaType);
    }

    /// <summary>
    /// Sets the request's tenant from its bearer token (see <see cref="RequestTenant.Of"/>), or answers 401 with
    /// <c>WWW-Authenticate: Bearer</c> (RFC 6750: <c>error="invalid_token"</c> when a token was sent) and a GraphQL error.
    /// </summary>
    private static async Task<bool> AuthenticateAsync(HttpContext http, GraphQLHttpResponder responder)
    {
        var outcome = await http.RequestServices.GetRequiredService<TokenAuthenticator>()
            .AuthenticateAsync(http.Request.Headers.Authorization, http.RequestAborted);
        if (outcome.Succeeded)
        {
            http.User = outcome.Principal!;
            http.Features.Set<RequestTenant>(outcome.Tenant);
            return true;
        }
        http.Response.Headers.WWWAuthenticate = outcome.TokenSent ? "Bearer error=\"invalid_token\"" : "Bearer";
        await responder.WriteProblemAsync(http, HttpProblem.Unauthenticated(outcome.Problem),
            ResponseMediaType.Negotiate(http.Request.Headers.Accept));
        return false;
    }

    private static Task RefuseMethodAsync(HttpContext http)
    {
        http.Response.Headers.Allow = $"{HttpMethods.Get}, {HttpMethods.Post}";
        var responder = http.RequestServices.GetRequiredService<GraphQLHttpResponder>();
        return responder.WriteProblemAsync(http, HttpProblem.MethodNotAllowed(http.Request.Method),
            ResponseMediaType.Negotiate(http.Request.Headers.Accept));
    }
}
