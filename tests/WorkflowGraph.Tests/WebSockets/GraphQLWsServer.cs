using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using WorkflowGraph.Querying;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Auth;
using WorkflowGraph.Tests.Database;
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
    WebApplicationFactory<Program>? _factory;
    readonly HttpClient _http = new();

    public DatabaseFixture Database { get; } = new();

    /// <summary>Like <c>http://127.0.0.1:41234</c>.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary><c>ws://…/graphql</c>.</summary>
    public Uri WebSocketUri => new(BaseUrl.Replace("http://", "ws://") + "/graphql");

    public IServiceProvider Services => _factory?.Services ?? throw new InvalidOperationException("Fixture not initialised.");

    /// <summary>Configuration keys (<c>GraphQL:KeepAliveSeconds</c>) and values for this server.</summary>
    protected virtual IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>();

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
        using var request = new HttpRequestMessage(HttpMethod.Post, BaseUrl + "/graphql") { Content = JsonContent.Create(new { query, variables }) };
        request.Headers.TryAddWithoutValidation("Authorization", Bearer(org, role));
        using var response = await _http.SendAsync(request);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        await using (var connection = await Database.DataSource.OpenConnectionAsync())
            await connection.ExecAsync(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Api", "graph-data.sql")));
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
        {
            host.UseSetting("ConnectionStrings:WorkflowGraph", Database.OwnerConnectionString).UseTestSigningKey();
            foreach (var (key, value) in Settings)
                host.UseSetting(key, value);
            ConfigureHost(host);
        });
        _factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        _factory.StartServer();
        BaseUrl = _factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
    }

    public virtual async Task DisposeAsync()
    {
        _http.Dispose();
        if (_factory is not null) await _factory.DisposeAsync();
        await Database.DisposeAsync();
    }
}
