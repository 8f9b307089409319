using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Auth;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Http;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.WebSockets;

/// <summary>
/// The service on a loopback port (Kestrel: real WebSockets) over a database holding graph-data.sql (orgs A and B of
/// <see cref="GraphApiFixture"/>), for one test class. <see cref="Settings"/> adds configuration (e.g. short timeouts);
/// <see cref="ConnectAsync"/> opens an initialised <see cref="GraphQLWsTestClient"/> for a token of an org and role,
/// <see cref="PostAsync"/> runs an operation over HTTP (e.g. the mutations that produce events).
/// </summary>
public class GraphQLWsServer : IAsyncLifetime
{
    private WebApplicationFactory<Program>? _factory;
    private readonly HttpClient _http = new();

    public DatabaseFixture Database { get; } = new();

    /// <summary>Like <c>http://127.0.0.1:41234</c>.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary><c>ws://…/graphql</c>.</summary>
    public Uri WebSocketUri => new(BaseUrl.Replace("http://", "ws://") + "/graphql");

    public IServiceProvider Services => _factory?.Services ?? throw new InvalidOperationException("Fixture not initialised.");

    /// <summary>Configuration keys (<c>GraphQL:KeepAliveSeconds</c>) and values for this server.</summary>
    protected virtual IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>();

    /// <summary>Runs once the database is ready, before the service starts (e.g. to start what sits in front of it).</summary>
    protected virtual Task BeforeStartAsync() => Task.CompletedTask;

    /// <summary>More of the host, e.g. its Kestrel transport.</summary>
    protected virtual void ConfigureHost(IWebHostBuilder host)
    {
    }

    /// <summary>An <c>Authorization</c> value of <paramref name="org"/> (by default org A, as its user, admin).</summary>
    public static string Bearer(Guid? org = null, TenantRole role = TenantRole.Admin)
    {
        var organisation = org ?? GraphApiFixture.OrgA;
        return TestTokens.Bearer(organisation, GraphApiFixture.UserOf(organisation), role);
    }

    /// <summary>A client that has sent <c>connection_init</c> with a token of <paramref name="org"/> and got the ack.</summary>
    public Task<GraphQLWsTestClient> ConnectAsync(Guid? org = null, TenantRole role = TenantRole.Admin) =>
        GraphQLWsTestClient.ConnectAndInitAsync(WebSocketUri, Bearer(org, role));

    /// <summary>POSTs an operation with a token of <paramref name="org"/>; returns the response body.</summary>
    public async Task<JsonElement> PostAsync(string query, object? variables = null, Guid? org = null, TenantRole role = TenantRole.Admin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, BaseUrl + "/graphql")
        {
            Content = JsonContent.Create(new { query, variables }),
        };
        request.Headers.TryAddWithoutValidation("Authorization", Bearer(org, role));
        using var response = await _http.SendAsync(request);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>The HTTP status of a small query sent with <paramref name="token"/> (a raw JWT): 200, or 401 when refused.</summary>
    public async Task<HttpStatusCode> QueryStatusAsync(string token)
    {
        using var request = Requests.PostQuery("{ traces(first: 1) { totalCount } }");
        request.RequestUri = new Uri(BaseUrl + "/graphql");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await _http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>The active workflow of each org in graph-data.sql and its three nodes.</summary>
    public static (Guid WorkflowId, int FirstNodeId) WorkflowOf(Guid org) => org == GraphApiFixture.OrgB
        ? (Guid.Parse("bbbbbbbb-2222-4000-8000-000000000001"), 301)
        : (Guid.Parse("aaaaaaaa-2222-4000-8000-000000000001"), 101);

    /// <summary>Starts a run over HTTP (an operator of <paramref name="org"/>, org A by default); returns its id and the
    /// cursor of its first event, from which a <c>workflowEvents(traceId, after)</c> subscription replays what follows.</summary>
    public async Task<(long TraceId, string FirstCursor)> StartRunAsync(Guid? org = null)
    {
        var started = await MutateAsync("""
            mutation ($workflowId: ID!) {
              startWorkflowExecution(input: { workflowId: $workflowId, channel: WEB }) { trace { id rowId } errors { __typename } }
            }
            """, new { workflowId = Ids.Workflow(WorkflowOf(org ?? GraphApiFixture.OrgA).WorkflowId) }, org, "startWorkflowExecution");
        var traceId = started.GetProperty("trace").GetProperty("rowId").GetInt64();
        // read once the run committed: a cursor read inside the writing transaction does not yet lie past its own event
        var body = await PostAsync("query ($id: ID!) { trace(id: $id) { events(first: 1) { cursor } } }", new { id = Ids.Trace(traceId) },
            org);
        return (traceId, body.GetProperty("data").GetProperty("trace").GetProperty("events")[0].GetProperty("cursor").GetString()!);
    }

    /// <summary>Starts step <paramref name="stepNumber"/> of a run over HTTP (on its workflow's first node); returns the step id.</summary>
    public async Task<long> StartStepAsync(long traceId, int stepNumber, Guid? org = null)
    {
        var started = await MutateAsync("""
            mutation ($traceId: ID!, $nodeId: ID!, $stepNumber: Int!) {
              startWorkflowStep(input: { traceId: $traceId, nodeId: $nodeId, stepNumber: $stepNumber, inputData: { member_id: "M1" } }) {
                step { id rowId } errors { __typename ... on Error { message } }
              }
            }
            """, new { traceId = Ids.Trace(traceId), nodeId = Ids.Node(WorkflowOf(org ?? GraphApiFixture.OrgA).FirstNodeId), stepNumber },
            org, "startWorkflowStep");
        return started.GetProperty("step").GetProperty("rowId").GetInt64();
    }

    /// <summary>Sets a context value of a run over HTTP (one <c>context_set</c> event).</summary>
    public Task SetContextAsync(long traceId, string key, Guid? org = null) => MutateAsync("""
        mutation ($traceId: ID!, $key: String!) {
          setWorkflowContext(input: { traceId: $traceId, key: $key, value: 1 }) { entry { key } errors { __typename } }
        }
        """, new { traceId = Ids.Trace(traceId), key }, org, "setWorkflowContext");

    private async Task<JsonElement> MutateAsync(string mutation, object variables, Guid? org, string field)
    {
        var body = await PostAsync(mutation, variables, org, TenantRole.Operator);
        var payload = body.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
            ? data.GetProperty(field)
            : default;
        Assert.True(payload.ValueKind == JsonValueKind.Object && payload.GetProperty("errors").ValueKind == JsonValueKind.Null,
            $"{field} failed: {body}");
        return payload;
    }

    public async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        await using (var connection = await Database.DataSource.OpenConnectionAsync())
            await connection.ExecAsync(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Api", "graph-data.sql")));
        await BeforeStartAsync();
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
        {
            host.UseSetting("ConnectionStrings:WorkflowGraph", Database.ServiceConnectionString)
            .UseSetting("ConnectionStrings:WorkflowGraphOwner", Database.OwnerConnectionString).UseTestSigningKey();
            foreach (var (key, value) in Settings)
                host.UseSetting(key, value);
            ConfigureHost(host);
        });
        _factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        _factory.StartServer();
        BaseUrl = ListeningAddress.Of(_factory.Services);
    }

    public virtual async Task DisposeAsync()
    {
        _http.Dispose();
        if (_factory is not null) await _factory.DisposeAsync();
        await Database.DisposeAsync();
    }
}
