using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Tests.WebSockets;
using WorkflowGraph.Transport.Cors;

namespace WorkflowGraph.Tests.Http;

/// <summary>A server that lists one front-end origin, as an operator would with <c>Cors__AllowedOrigins__0</c>.</summary>
public sealed class CorsServer : GraphQLWsServer
{
    public const string Allowed = "http://app.example.test:5173";
    public const string Other = "http://evil.example.test";

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Cors:AllowedOrigins:0"] = Allowed,
        ["Cors:PreflightMaxAgeSeconds"] = "300",
    };
}

/// <summary>
/// Browsers on a listed origin may call the API (the Fetch spec's CORS protocol, preflights included) over HTTP and
/// WebSocket; any other origin is refused with 403 before anything runs, the WebSocket upgrade too.
/// </summary>
public sealed class CorsTests(CorsServer server) : IClassFixture<CorsServer>
{
    private readonly HttpClient _http = new();

    private HttpRequestMessage Preflight(string origin, string headers = "authorization,content-type")
    {
        var request = new HttpRequestMessage(HttpMethod.Options, server.BaseUrl + "/graphql");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", headers);
        return request;
    }

    private HttpRequestMessage Post(string origin, string query)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, server.BaseUrl + "/graphql") { Content = JsonContent.Create(new { query }) };
        request.Headers.Add("Origin", origin);
        request.Headers.TryAddWithoutValidation("Authorization", GraphQLWsServer.Bearer());
        return request;
    }

    [Fact]
    public async Task A_preflight_from_a_listed_origin_allows_post_with_authorization_and_content_type()
    {
        using var response = await _http.SendAsync(Preflight(CorsServer.Allowed));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(CorsServer.Allowed, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        var headers = string.Join(",", response.Headers.GetValues("Access-Control-Allow-Headers")).ToLowerInvariant();
        Assert.Contains("authorization", headers);
        Assert.Contains("content-type", headers);
        Assert.Contains("POST", string.Join(",", response.Headers.GetValues("Access-Control-Allow-Methods")));
        Assert.Equal("300", Assert.Single(response.Headers.GetValues("Access-Control-Max-Age")));
        Assert.Contains("Origin", response.Headers.Vary);
    }

    [Fact]
    public async Task A_preflight_asking_for_a_header_the_api_does_not_take_is_not_allowed_it()
    {
        // the browser compares the answer with what it asked for, and refuses the request
        using var response = await _http.SendAsync(Preflight(CorsServer.Allowed, "x-api-key"));
        var allowed = response.Headers.TryGetValues("Access-Control-Allow-Headers", out var values) ? string.Join(",", values) : "";
        Assert.DoesNotContain("x-api-key", allowed, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_post_from_a_listed_origin_runs_and_names_the_origin()
    {
        using var response = await _http.SendAsync(Post(CorsServer.Allowed, "{ traces(first: 1) { totalCount } }"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(CorsServer.Allowed, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("data").GetProperty("traces").GetProperty("totalCount").GetInt32() > 0);
    }

    [Theory]
    [InlineData(CorsServer.Other)]
    [InlineData("http://app.example.test:5174")]
    [InlineData("https://app.example.test:5173")]
    [InlineData("null")]
    public async Task Another_origin_is_refused_with_403_before_anything_runs(string origin)
    {
        var marker = $"cors-{Guid.NewGuid():N}";
        var mutation =
            $$"""mutation { setWorkflowContext(input: { traceId: "{{Ids.Trace(3)}}", key: "{{marker}}", value: 1 }) { entry { key } } }""";
        using var preflight = await _http.SendAsync(Preflight(origin));
        using var post = await _http.SendAsync(Post(origin, mutation));

        Assert.Equal(HttpStatusCode.Forbidden, preflight.StatusCode);
        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
        Assert.False(post.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.Equal(OriginGuard.NotAllowedCode, await post.ErrorCodeAsync());
        await using var conn = await server.Database.DataSource.OpenConnectionAsync();
        Assert.Equal(0L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_trace_context WHERE key = $1", marker));
    }

    [Fact]
    public async Task Requests_without_an_origin_and_from_the_services_own_origin_pass()
    {
        using var plain = new HttpRequestMessage(HttpMethod.Post, server.BaseUrl + "/graphql")
        {
            Content = JsonContent.Create(new { query = "{ __typename }" }),
        };
        plain.Headers.TryAddWithoutValidation("Authorization", GraphQLWsServer.Bearer());
        using var withoutOrigin = await _http.SendAsync(plain);
        using var sameOrigin = await _http.SendAsync(Post(server.BaseUrl, "{ __typename }"));

        Assert.Equal(HttpStatusCode.OK, withoutOrigin.StatusCode);
        Assert.Equal(HttpStatusCode.OK, sameOrigin.StatusCode);
        Assert.False(sameOrigin.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task The_websocket_upgrade_checks_the_origin_against_the_same_list()
    {
        await using (var allowed = await GraphQLWsTestClient.ConnectAsync(server.WebSocketUri,
                         configure: options => options.SetRequestHeader("Origin", CorsServer.Allowed)))
        {
            await allowed.InitAsync(new { Authorization = GraphQLWsServer.Bearer() });
            await allowed.ExpectAckAsync();
        }

        using var refused = new ClientWebSocket();
        refused.Options.AddSubProtocol("graphql-transport-ws");
        refused.Options.SetRequestHeader("Origin", CorsServer.Other);
        refused.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => refused.ConnectAsync(server.WebSocketUri, CancellationToken.None));
        Assert.Equal(HttpStatusCode.Forbidden, refused.HttpStatusCode);
    }

    [Fact]
    public void The_list_matches_whole_origins_only_and_is_empty_outside_development_unless_configured()
    {
        var listed = new AllowedOrigins(["HTTPS://App.Example.Test/", "http://localhost:3000"]);
        Assert.True(listed.IsListed("https://app.example.test"));
        Assert.True(listed.IsListed("https://app.example.test:443"));
        Assert.False(listed.IsListed("https://app.example.test.evil.test"));
        Assert.False(listed.IsListed("http://app.example.test"));
        Assert.False(listed.IsListed("https://app.example.test/path"));
        Assert.False(listed.IsListed("null"));

        Assert.Empty(AllowedOrigins.From(new CorsOptions(), development: false).Listed);
        Assert.Contains("http://localhost:5173", AllowedOrigins.From(new CorsOptions(), development: true).Listed);
        Assert.Equal(["http://x.test"], AllowedOrigins.From(new CorsOptions { AllowedOrigins = ["http://x.test"] }, true).Listed);
    }
}

/// <summary>A server that lists one loopback page origin, for the browser check.</summary>
public sealed class BrowserCorsServer : GraphQLWsServer
{
    public static readonly int AllowedPagePort = WorkflowGraph.Hosting.FreeTcpPort.Next();
    public static readonly int OtherPagePort = WorkflowGraph.Hosting.FreeTcpPort.Next();

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Cors:AllowedOrigins:0"] = $"http://127.0.0.1:{AllowedPagePort}",
    };
}

/// <summary>
/// Headless Chromium (tests/http-audit/cors-browser.mjs): a page served from the allowed loopback origin runs a query
/// and receives a subscription; the same page from an origin not on the list gets neither.
/// </summary>
public sealed class BrowserCorsTests(BrowserCorsServer server) : IClassFixture<BrowserCorsServer>
{
    private sealed record Outcome(string? Query, bool Subscribed, string? Event, string? Socket);
    private sealed record Report(Outcome Allowed, Outcome Refused);

    [Fact]
    public async Task A_page_on_the_allowed_origin_queries_and_subscribes_and_one_on_another_origin_cannot()
    {
        var chromium = Chromium.ExecutableOrFail();
        var run = await NodeScript.RunAsync("cors-browser.mjs",
            [server.BaseUrl, GraphQLWsServer.Bearer(), $"{BrowserCorsServer.AllowedPagePort}", $"{BrowserCorsServer.OtherPagePort}",
                Ids.Trace(3), chromium],
            TimeSpan.FromSeconds(60));
        Assert.True(run.ExitCode == 0, $"cors-browser.mjs exited with {run.ExitCode}:\n{run.StandardError}");
        var report = JsonSerializer.Deserialize<Report>(run.StandardOutput, JsonSerializerOptions.Web)!;

        Assert.Equal(("WorkflowTrace", true, "context_set", null), (report.Allowed.Query, report.Allowed.Subscribed,
            report.Allowed.Event, report.Allowed.Socket));
        Assert.StartsWith("refused", report.Refused.Query);
        Assert.Equal(("refused", false, null), (report.Refused.Socket, report.Refused.Subscribed, report.Refused.Event));
    }
}
