using System.Net.Http.Json;
using System.Text.Json;
using GraphQL;
using GraphQL.SystemTextJson;
using GraphQL.Transport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using WorkflowGraph.Auth;
using WorkflowGraph.Database;
using WorkflowGraph.Development;
using WorkflowGraph.Execution;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Bench;

/// <summary>What every scenario works with: the data set, the service, the peer (when it runs) and the load settings.</summary>
public sealed class BenchContext(BenchOptions options, TextWriter log, string ownerConnection, ServiceLogins logins, ServiceProcess service,
    PeerProcess? peer, string signingKey) : IAsyncDisposable
{
    public static readonly Guid Org = Guid.Parse("00000000-0000-4000-8000-000000000001");
    public static readonly Guid Viewer = Guid.Parse("00000000-0000-4000-8000-0000000000ff");
    public static readonly Guid Operator = Guid.Parse("00000000-0000-4000-8000-0000000000fe");

    public BenchOptions Options => options;
    public TextWriter Log => log;
    public string OwnerConnection => ownerConnection;

    /// <summary>What a further service process connects with (<see cref="ServiceProcess.Start"/>).</summary>
    public ServiceLogins Logins => logins;
    public ServiceProcess Service => service;
    public PeerProcess? Peer => peer;

    /// <summary>The key the service accepts tokens of (for scenarios that make tokens of other users or organisations).</summary>
    public string SigningKey => signingKey;

    public TimeSpan Warmup { get; } = TimeSpan.FromSeconds(options.WarmupSeconds);
    public TimeSpan Duration { get; } = TimeSpan.FromSeconds(options.Seconds);

    /// <summary>Owner connections for the direct baseline (<see cref="DirectDatabase"/>).</summary>
    public DirectDatabase Direct { get; } = new(ownerConnection, options.Clients + 4);

    public NpgsqlDataSource Database => Direct.DataSource;

    public HttpClient ServiceHttp { get; } = Client(service.Address, options.Clients);
    public HttpClient? PeerHttp { get; } = peer is null ? null : Client(peer.Address, options.Clients);

    public string ViewerToken { get; } = TokenFor(signingKey, Viewer);
    public string OperatorToken { get; } = TokenFor(signingKey, Operator);

    /// <summary>
    /// An Authorization header value for a user of the benchmark organisation (the operator's role for
    /// <see cref="Operator"/>).
    /// </summary>
    public static string TokenFor(string signingKey, Guid user) =>
        "Bearer " + DevelopmentTokens.Create(TokenSettings.KeyFrom(signingKey), Org, user,
            user == Operator ? TenantRole.Operator : TenantRole.Viewer, TimeSpan.FromHours(6));

    public static HttpClient Client(Uri address, int clients) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = clients }) { BaseAddress = address };

    /// <summary>
    /// Runs one operation at <see cref="BenchOptions.Clients"/> clients against one server; CPU and peak memory are the
    /// serving process's.
    /// </summary>
    /// <param name="serving">The serving process when it is not the one <paramref name="server"/> names (another instance).</param>
    public async Task<LoadResult> MeasureAsync(string scenario, Server server,
        Func<int, Task<Func<CancellationToken, Task>>> createClient, int? clients = null, ServiceProcess? serving = null,
        System.Diagnostics.Process? servingProcess = null)
    {
        var process = servingProcess ?? serving?.Process ?? server switch
        {
            Server.WorkflowGraph or Server.WorkflowGraphPhiMasked => service.Process,
            Server.PostGraphile => peer?.Process ?? throw new InvalidOperationException("the peer is not running"),
            _ => null,
        };
        if (process is not null)
            ProcessMemory.ResetPeak(process.Id);
        var result = await LoadRunner.RunAsync(scenario, clients ?? options.Clients, Warmup, Duration, createClient,
            () => CpuSample.Take(process ?? service.Process));
        result = result with
        {
            Scenario = scenario,
            Server = server,
            PeakMemoryMb = process is null ? null : ProcessMemory.PeakMb(process.Id),
        };
        log.WriteLine($"  {scenario,-34} {ServerLabel(server),-24} {result.PerSecond,8:0} ops/s  " +
                      $"p50 {result.P50Ms,7:0.0} ms  p99 {result.P99Ms,7:0.0} ms" +
                      (result.Failures > 0 ? $"  {result.Failures} FAILED: {result.FirstError}" : ""));
        return result;
    }

    public static string ServerLabel(Server server) => server switch
    {
        Server.WorkflowGraph => "WorkflowGraph",
        Server.DirectSql => "direct SQL (Npgsql)",
        Server.DirectHttp => "direct SQL over HTTP (Kestrel)",
        Server.WorkflowGraphTelemetryOff => "WorkflowGraph, OTel off",
        Server.WorkflowGraphTraced => "WorkflowGraph, spans exported",
        Server.WorkflowGraphPhiMasked => "WorkflowGraph, no phi:read",
        _ => PeerProcess.Label,
    };

    /// <summary>One function call in its own transaction, with the same role and tenant setup as the service; its value.</summary>
    public static async Task<object?> CallFunctionAsync(NpgsqlConnection conn, string sql, object[] values, CancellationToken ct,
        params (string Name, string Value)[] settings)
    {
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using var batch = TenantBatch(conn, tx, Operator, settings);
        var call = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
            call.Parameters.Add(new NpgsqlParameter { Value = value });
        batch.BatchCommands.Add(call);
        object? result;
        await using (var reader = await batch.ExecuteReaderAsync(ct))
        {
            await reader.NextResultAsync(ct);
            await reader.ReadAsync(ct);
            result = reader.GetDataTypeName(0) == "void" || reader.IsDBNull(0) ? null : reader.GetValue(0);
        }
        await tx.CommitAsync(ct);
        return result;
    }

    /// <summary>The bench organisation's first active workflow and its first node (the step scenarios start runs of it).</summary>
    public async Task<(Guid Workflow, int Node)> FirstNodeAsync()
    {
        await using var command = Database.CreateCommand(
            "SELECT w.id, n.id FROM workflows w JOIN workflow_nodes n ON n.workflow_id = w.id " +
            "WHERE w.org_id = $1 AND w.is_active ORDER BY w.name, n.position LIMIT 1");
        command.Parameters.Add(new NpgsqlParameter { Value = Org });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetGuid(0), reader.GetInt32(1));
    }

    /// <summary>The ids of the bench organisation's 2,000 most recent runs (the trace-detail scenarios walk them).</summary>
    public async Task<List<long>> RecentTracesAsync()
    {
        await using var command = Database.CreateCommand(
            "SELECT id FROM workflow_trace WHERE org_id = $1 ORDER BY start_time DESC, id DESC LIMIT 2000");
        command.Parameters.Add(new NpgsqlParameter { Value = BenchContext.Org });
        var ids = new List<long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            ids.Add(reader.GetInt64(0));
        return ids;
    }

    /// <summary>The tenant setup the service sends first in every request (role, org, user, timeout, UTC).</summary>
    /// <param name="settings">More settings of the transaction (e.g. <c>workflowgraph.stats_rollups</c>), set with the tenant's.</param>
    public static NpgsqlBatch TenantBatch(NpgsqlConnection conn, NpgsqlTransaction tx, Guid? user,
        params (string Name, string Value)[] settings)
    {
        var batch = new NpgsqlBatch(conn, tx);
        foreach (var command in TenantTransaction.Commands(Org, user, [("statement_timeout", "30s"), ("TimeZone", "UTC"), .. settings]))
            batch.BatchCommands.Add(command);
        return batch;
    }

    /// <summary>
    /// A read as the service does it: BEGIN, the tenant setup and the statement in one round trip, every column of
    /// every row read as text, then the end of the transaction. Returns the number of rows.
    /// </summary>
    public Task<int> ReadDirectAsync(string sql, IEnumerable<NpgsqlParameter> parameters, CancellationToken ct)
    {
        var query = new NpgsqlBatchCommand(sql);
        foreach (var p in parameters)
            query.Parameters.Add(new NpgsqlParameter { Value = p.Value, NpgsqlDbType = p.NpgsqlDbType });
        return Direct.ReadPageAsync([query], async (reader, token) =>
        {
            var rows = 0;
            while (await reader.ReadAsync(token))
            {
                for (var i = 0; i < reader.FieldCount; i++)
                    _ = reader.IsDBNull(i) ? null : reader.GetValue(i).ToString();
                rows++;
            }
            return rows;
        }, ct);
    }

    /// <summary>POSTs one GraphQL request; fails on a non-2xx status or a response with top-level errors. Returns the body.</summary>
    public static async Task<byte[]> PostAsync(HttpClient http, string authorization, string query, object? variables, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/graphql") { Content = JsonContent.Create(new { query, variables }) };
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var response = await http.SendAsync(request, ct);
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        if (!response.IsSuccessStatusCode || body.AsSpan().IndexOf("\"errors\""u8) is >= 0 and < 16)
        {
            var start = System.Text.Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(300, body.Length)));
            throw new InvalidOperationException($"HTTP {(int)response.StatusCode}: {start}");
        }
        return body;
    }

    /// <summary>GETs <c>/graphql?documentId=</c> (a trusted document); fails like <see cref="PostAsync"/>. Returns the body.</summary>
    public static Task<byte[]> GetDocumentAsync(HttpClient http, string authorization, string documentId, CancellationToken ct) =>
        GetAsync(http, authorization, "/graphql?documentId=" + Uri.EscapeDataString(documentId), ct);

    /// <summary>GETs <paramref name="path"/>; fails like <see cref="PostAsync"/>. Returns the body.</summary>
    public static async Task<byte[]> GetAsync(HttpClient http, string authorization, string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var response = await http.SendAsync(request, ct);
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        if (!response.IsSuccessStatusCode || body.AsSpan().IndexOf("\"errors\""u8) is >= 0 and < 16)
        {
            var start = System.Text.Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(300, body.Length)));
            throw new InvalidOperationException($"HTTP {(int)response.StatusCode}: {start}");
        }
        return body;
    }

    public static async Task<JsonElement> PostForDataAsync(HttpClient http, string authorization, string query, object? variables,
        CancellationToken ct)
    {
        var body = await PostAsync(http, authorization, query, variables, ct);
        using var document = JsonDocument.Parse(body);
        if (document.RootElement.TryGetProperty("errors", out var errors))
            throw new InvalidOperationException(errors.ToString());
        return document.RootElement.GetProperty("data").Clone();
    }

    /// <summary>The statement the engine sends for a query, captured by running it once in-process as a viewer of the org.</summary>
    public async Task<(string Sql, IReadOnlyList<NpgsqlParameter> Parameters)> CaptureStatementAsync(string query,
        string? variablesJson = null)
    {
        var capture = new CapturedStatements();
        var services = new ServiceCollection();
        var configuration = new ConfigurationBuilder().Build();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddGraphQLApi(configuration, Features.All);
        services.AddSingleton(NpgsqlDataSource.Create(ownerConnection));
        services.AddSingleton<IStatementObserver>(capture);
        services.AddScoped(_ => new RequestTenant(Org, Viewer, TenantRole.Viewer));
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        var request = new GraphQLRequest
        {
            Query = query,
            Variables = variablesJson is null ? null : new GraphQLSerializer().Deserialize<Inputs>(variablesJson),
        };
        var result = await scope.ServiceProvider.GetRequiredService<GraphQLExecution>()
            .ExecuteAsync(request, scope.ServiceProvider, GraphQLTransport.HttpPost, CancellationToken.None);
        if (result.Errors is { Count: > 0 })
            throw new InvalidOperationException(result.Errors[0].Message);
        if (capture.Statements.Count != 1)
            throw new InvalidOperationException($"expected one statement, the engine sent {capture.Statements.Count}");
        return capture.Statements[0];
    }

    public async ValueTask DisposeAsync()
    {
        ServiceHttp.Dispose();
        PeerHttp?.Dispose();
        await Direct.DisposeAsync();
    }

    private sealed class CapturedStatements : IStatementObserver
    {
        public List<(string Sql, IReadOnlyList<NpgsqlParameter> Parameters)> Statements { get; } = [];

        public void OnStatement(string sql, IReadOnlyList<NpgsqlParameter> parameters) =>
            Statements.Add((sql, parameters.Select(p => new NpgsqlParameter { Value = p.Value, NpgsqlDbType = p.NpgsqlDbType }).ToList()));
    }
}
