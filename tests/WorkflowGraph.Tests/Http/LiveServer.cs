using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Http;

/// <summary>
/// The service listening on a loopback port (Kestrel, not TestServer) over a database of its own, for clients that
/// run in another process: node's graphql-http audit and Chromium. Port 0 lets the OS pick, so parallel test
/// classes never race for a port.
/// </summary>
public sealed class LiveServer : IAsyncLifetime
{
    readonly DatabaseFixture _database = new();
    WebApplicationFactory<Program>? _factory;

    /// <summary>Like <c>http://127.0.0.1:41234</c>, without a trailing slash.</summary>
    public string BaseUrl { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
            host.UseSetting("ConnectionStrings:WorkflowGraph", _database.OwnerConnectionString));
        _factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        _factory.StartServer();
        var addresses = _factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseUrl = addresses.First().TrimEnd('/');
    }

    public async Task DisposeAsync()
    {
        if (_factory is not null) await _factory.DisposeAsync();
        await _database.DisposeAsync();
    }
}
