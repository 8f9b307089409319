using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using WorkflowGraph.Database;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Auth;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Api;

/// <summary>Records the SQL each request sends, so tests can assert one statement per root field.</summary>
public sealed class StatementLog : IStatementObserver
{
    private readonly ConcurrentQueue<Statement> _statements = new();

    public void OnStatement(string sql, IReadOnlyList<Npgsql.NpgsqlParameter> parameters) =>
        _statements.Enqueue(new Statement(sql, [.. parameters.Select(p => p.Clone())]));

    /// <summary>What the last <see cref="Take"/> took, with copies of the parameters (to run a statement again).</summary>
    public IReadOnlyList<Statement> LastTaken { get; private set; } = [];

    public IReadOnlyList<string> Take()
    {
        var taken = new List<Statement>();
        while (_statements.TryDequeue(out var statement))
            taken.Add(statement);
        LastTaken = taken;
        return [.. taken.Select(s => s.Sql)];
    }
}

internal static class HostBuilderSettings
{
    public static IWebHostBuilder UseSettings(this IWebHostBuilder host, Action<IWebHostBuilder> configure)
    {
        configure(host);
        return host;
    }
}

public sealed record GraphResponse(HttpStatusCode Status, JsonElement Body, IReadOnlyList<string> Statements)
{
    public JsonElement Data => Body.GetProperty("data");

    public System.Net.Http.Headers.HttpResponseHeaders? Headers { get; init; }

    public IEnumerable<string?> ErrorCodes => GraphQLErrors.Codes(Body);
}

/// <summary>
/// The service in-process over a database holding graph-data.sql (fixed ids and times), for one test class. It
/// accepts tokens signed with <see cref="TestTokens.SigningKey"/>; <see cref="PostAsync"/> sends one per request. A
/// fixture with other settings derives from it (<see cref="ConfigureHost"/>).
/// </summary>
public class GraphApiFixture : IAsyncLifetime
{
    public static readonly Guid OrgA = Guid.Parse("aaaaaaaa-0000-4000-8000-000000000001");
    public static readonly Guid OrgB = Guid.Parse("bbbbbbbb-0000-4000-8000-000000000002");
    /// <summary>The users graph-data.sql gives each organisation; tokens of that organisation act as them.</summary>
    public static readonly Guid UserA = Guid.Parse("aaaaaaaa-1111-4000-8000-000000000001");
    public static readonly Guid UserB = Guid.Parse("bbbbbbbb-1111-4000-8000-000000000001");

    private WebApplicationFactory<Program>? _factory;

    public DatabaseFixture Database { get; } = new();
    public StatementLog Statements { get; } = new();
    /// <summary>Sends only what a test adds: no Authorization header unless the request has one.</summary>
    public HttpClient Client { get; private set; } = null!;

    /// <summary>The app's services (e.g. its TokenAuthenticator).</summary>
    public IServiceProvider Services => _factory?.Services ?? throw new InvalidOperationException("Fixture not initialised.");

    public async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        await using (var conn = await Database.DataSource.OpenConnectionAsync())
        {
            await conn.ExecAsync(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Api", "graph-data.sql")));
            // the statistics rollups count graph-data.sql before the first request (the service's job would within seconds)
            await conn.RefreshStatsRollupsAsync();
        }
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host
            .UseSetting("ConnectionStrings:WorkflowGraph", Database.ServiceConnectionString)
            .UseSetting("ConnectionStrings:WorkflowGraphOwner", Database.OwnerConnectionString)
            .UseTestSigningKey()
            .ConfigureTestServices(services => services.AddSingleton<IStatementObserver>(Statements))
            .UseSettings(ConfigureHost));
        Client = _factory.CreateClient();
    }

    /// <summary>Settings of a derived fixture, applied after the defaults.</summary>
    protected virtual void ConfigureHost(IWebHostBuilder host)
    {
    }

    /// <summary>The user a token of <paramref name="org"/> names unless a test picks one.</summary>
    public static Guid UserOf(Guid org) => org == OrgB ? UserB : UserA;

    /// <param name="org">The organisation of the token sent (default <see cref="OrgA"/>).</param>
    /// <param name="anonymous">Send no Authorization header at all.</param>
    /// <param name="role">The token's role.</param>
    /// <param name="user">The token's <c>sub</c> (default <see cref="UserOf"/> the organisation).</param>
    /// <param name="authorization">An Authorization header sent exactly as given, instead of a token of the fixture's.</param>
    /// <param name="scope">The token's OAuth <c>scope</c> claim (none when null).</param>
    /// <param name="operationName">The operation to run, sent only when given.</param>
    public async Task<GraphResponse> PostAsync(string query, object? variables = null, Guid? org = null, bool anonymous = false,
        TenantRole role = TenantRole.Admin, Guid? user = null, string? authorization = null, string? scope = null,
        string? operationName = null)
    {
        Statements.Take();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/graphql")
        {
            Content = operationName is null
                ? JsonContent.Create(new { query, variables })
                : JsonContent.Create(new { query, variables, operationName }),
        };
        var organisation = org ?? OrgA;
        authorization ??= anonymous ? null
            : scope is null ? TestTokens.Bearer(organisation, user ?? UserOf(organisation), role)
            : TestTokens.BearerWithScope(organisation, user ?? UserOf(organisation), role, scope);
        if (authorization is not null)
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var response = await Client.SendAsync(request);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return new GraphResponse(response.StatusCode, body, Statements.Take()) { Headers = response.Headers };
    }

    public virtual async Task DisposeAsync()
    {
        Client?.Dispose();
        if (_factory is not null)
            await _factory.DisposeAsync();
        await Database.DisposeAsync();
    }
}
