using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using WorkflowGraph.Tests.Auth;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Http;

/// <summary>
/// The service listening on a loopback port (Kestrel, not TestServer) over a database of its own, for clients that
/// run in another process: node's graphql-http audit and Chromium. Port 0 lets the OS pick, so parallel test
/// classes never race for a port. It accepts tokens signed with <see cref="TestTokens.SigningKey"/>;
/// <see cref="Authorization"/> is one to send.
/// </summary>
public class LiveServer : IAsyncLifetime
{
    private readonly DatabaseFixture _database = new();
    private WebApplicationFactory<Program>? _factory;

    /// <summary>Like <c>http://127.0.0.1:41234</c>, without a trailing slash.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>An admin's <c>Authorization</c> header value (of an organisation without rows).</summary>
    public string Authorization { get; } = TestTokens.Bearer(GraphQLApp.Org, GraphQLApp.User);

    protected IServiceProvider Services => _factory?.Services ?? throw new InvalidOperationException("Fixture not initialised.");

    /// <summary>The server's database, for fixtures that put rows in it (as its owner).</summary>
    protected DatabaseFixture Database => _database;

    /// <summary>How the app is configured beyond its database: by default, the test signing key.</summary>
    protected virtual void Configure(IWebHostBuilder host) => host.UseTestSigningKey();

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
        {
            host.UseSetting("ConnectionStrings:WorkflowGraph", _database.ServiceConnectionString)
            .UseSetting("ConnectionStrings:WorkflowGraphOwner", _database.OwnerConnectionString);
            Configure(host);
        });
        _factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        _factory.StartServer();
        BaseUrl = ListeningAddress.Of(_factory.Services);
    }

    public virtual async Task DisposeAsync()
    {
        if (_factory is not null) await _factory.DisposeAsync();
        await _database.DisposeAsync();
    }
}

/// <summary>
/// A <see cref="LiveServer"/> in development mode (no signing key or authority): it generates a key, kept in a
/// temporary file here, and gives Banana Cake Pop a ready token through bcp-config.json.
/// </summary>
public sealed class DevelopmentLiveServer : LiveServer
{
    private readonly string _keyFile = Path.Combine(Path.GetTempPath(), $"wg-dev-key-{Guid.NewGuid():N}");

    protected override void Configure(IWebHostBuilder host) => host.UseSetting("Auth:DevelopmentKeyFile", _keyFile);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        File.Delete(_keyFile);
    }
}
