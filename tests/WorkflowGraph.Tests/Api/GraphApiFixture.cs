using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using WorkflowGraph.Api;
using WorkflowGraph.Querying;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Api;

/// <summary>Records the SQL each request sends, so tests can assert one statement per root field.</summary>
public sealed class StatementLog : IStatementObserver
{
    private readonly ConcurrentQueue<string> _statements = new();

    public void OnStatement(string sql, IReadOnlyList<Npgsql.NpgsqlParameter> parameters) => _statements.Enqueue(sql);

    public IReadOnlyList<string> Take()
    {
        var taken = new List<string>();
        while (_statements.TryDequeue(out var sql))
            taken.Add(sql);
        return taken;
    }
}

public sealed record GraphResponse(HttpStatusCode Status, JsonElement Body, IReadOnlyList<string> Statements)
{
    public JsonElement Data => Body.GetProperty("data");

    public IEnumerable<string?> ErrorCodes => Body.TryGetProperty("errors", out var errors)
        ? errors.EnumerateArray().Select(e => e.TryGetProperty("extensions", out var x) && x.TryGetProperty("code", out var c) ? c.GetString() : null)
        : [];
}

/// <summary>
/// The service in-process over a database holding graph-data.sql (fixed ids and times), for one test class.
/// </summary>
public sealed class GraphApiFixture : IAsyncLifetime
{
    public static readonly Guid OrgA = Guid.Parse("aaaaaaaa-0000-4000-8000-000000000001");
    public static readonly Guid OrgB = Guid.Parse("bbbbbbbb-0000-4000-8000-000000000002");

    private WebApplicationFactory<Program>? _factory;

    public DatabaseFixture Database { get; } = new();
    public StatementLog Statements { get; } = new();
    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        await using (var conn = await Database.DataSource.OpenConnectionAsync())
            await conn.ExecAsync(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Api", "graph-data.sql")));
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host
            .UseSetting("ConnectionStrings:WorkflowGraph", Database.OwnerConnectionString)
            .ConfigureTestServices(services => services.AddSingleton<IStatementObserver>(Statements)));
        Client = _factory.CreateClient();
    }

    public async Task<GraphResponse> PostAsync(string query, object? variables = null, Guid? org = null, bool anonymous = false)
    {
        Statements.Take();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/graphql")
        {
            Content = JsonContent.Create(new { query, variables }),
        };
        if (!anonymous)
            request.Headers.Add(GraphQLServices.OrgHeader, (org ?? OrgA).ToString());
        using var response = await Client.SendAsync(request);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return new GraphResponse(response.StatusCode, body, Statements.Take());
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (_factory is not null)
            await _factory.DisposeAsync();
        await Database.DisposeAsync();
    }
}
