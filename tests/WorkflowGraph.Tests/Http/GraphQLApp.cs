using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Http;

/// <summary>
/// The service in memory (TestServer) over a database of its own, for one test class
/// (<c>IClassFixture&lt;GraphQLApp&gt;</c>). Redirects are not followed so tests see them.
/// </summary>
public sealed class GraphQLApp : IAsyncLifetime
{
    readonly DatabaseFixture _database = new();
    WebApplicationFactory<Program>? _factory;

    public WebApplicationFactory<Program> Factory => _factory ?? throw new InvalidOperationException("Fixture not initialised.");

    public HttpClient CreateClient() => Factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
            host.UseSetting("ConnectionStrings:WorkflowGraph", _database.OwnerConnectionString));
    }

    public async Task DisposeAsync()
    {
        if (_factory is not null) await _factory.DisposeAsync();
        await _database.DisposeAsync();
    }
}
