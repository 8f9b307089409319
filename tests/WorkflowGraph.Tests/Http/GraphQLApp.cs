using System.Net.Http.Headers;
using Microsoft.AspNetCore.Mvc.Testing;
using WorkflowGraph.Tests.Auth;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Http;

/// <summary>
/// The service in memory (TestServer) over a database of its own, for one test class
/// (<c>IClassFixture&lt;GraphQLApp&gt;</c>). Redirects are not followed so tests see them. It accepts tokens signed
/// with <see cref="TestTokens.SigningKey"/>, and its clients send an admin's by default.
/// </summary>
public sealed class GraphQLApp : IAsyncLifetime
{
    /// <summary>The organisation and user of the clients' default token (the database holds no rows of it).</summary>
    public static readonly Guid Org = Guid.Parse("cccccccc-0000-4000-8000-000000000001");
    public static readonly Guid User = Guid.Parse("cccccccc-1111-4000-8000-000000000001");

    private readonly DatabaseFixture _database = new();
    private WebApplicationFactory<Program>? _factory;

    public WebApplicationFactory<Program> Factory => _factory ?? throw new InvalidOperationException("Fixture not initialised.");

    /// <summary>A client whose requests carry an admin's bearer token.</summary>
    public HttpClient CreateClient() => CreateClient(TestTokens.For(Org, User));

    /// <summary>A client sending <paramref name="bearerToken"/>, or no Authorization header when it is null.</summary>
    public HttpClient CreateClient(string? bearerToken)
    {
        var client = Factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        if (bearerToken is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearerToken);
        return client;
    }

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host
            .UseSetting("ConnectionStrings:WorkflowGraph", _database.ServiceConnectionString)
            .UseSetting("ConnectionStrings:WorkflowGraphOwner", _database.OwnerConnectionString)
            .UseTestSigningKey());
    }

    public async Task DisposeAsync()
    {
        if (_factory is not null) await _factory.DisposeAsync();
        await _database.DisposeAsync();
    }
}
