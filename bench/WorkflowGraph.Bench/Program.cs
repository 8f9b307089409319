using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using GraphQL.Transport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using WorkflowGraph.Api;
using WorkflowGraph.Auth;
using WorkflowGraph.Bench;
using WorkflowGraph.Database;
using WorkflowGraph.Hosting;
using WorkflowGraph.Querying;

// The read-API benchmark: the dashboard query through GraphQL over HTTP next to the same SQL sent directly
// through Npgsql (same transaction shape: tenant setup in the first round trip, then the end of the transaction).
var options = BenchOptions.Parse(args);
var log = Console.Out;
var root = RepoRoot.Find(Directory.GetCurrentDirectory()) ?? throw new InvalidOperationException("run from inside the repository");
log.WriteLine($"WorkflowGraph read benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, " +
              $"{options.Traces:N0} traces, {options.Clients} clients, {options.Seconds} s per scenario");

await using var cluster = await EmbeddedPostgres.StartAsync(
    new EmbeddedPostgresOptions(Path.Combine(root, ".data", "bench-pg")) { Database = null }, NullLogger.Instance);
var database = $"bench_{options.Traces}";
var ownerConnection = cluster.GetConnectionString(database);
await using (var admin = NpgsqlDataSource.Create(cluster.GetConnectionString("postgres")))
{
    var exists = await admin.CreateCommand($"SELECT 1 FROM pg_database WHERE datname = '{database}'").ExecuteScalarAsync() is not null;
    if (!exists)
    {
        log.WriteLine($"Generating the data set into {database}:");
        await admin.CreateCommand($"CREATE DATABASE {database}").ExecuteNonQueryAsync();
        await new MigrationRunner(ownerConnection, MigrationScript.Embedded).MigrateAsync();
        await using var owner = NpgsqlDataSource.Create(ownerConnection);
        await DataSet.GenerateAsync(owner, options.Traces, orgs: 20, log);
    }
    else
    {
        // a data set made by an older checkout gets the newer migrations
        await new MigrationRunner(ownerConnection, MigrationScript.Embedded).MigrateAsync();
    }
}

var org = Guid.Parse("00000000-0000-4000-8000-000000000001");
const string dashboard = """
    { traces(first: 50, where: { status: { eq: COMPLETED }, channel: { eq: WEB } }) {
        nodes { id status channel startTime steps { id status durationMs } } } }
    """;

// The statement the engine sends for the dashboard, captured by running it once in-process.
var (sql, parameters) = await CaptureStatementAsync(ownerConnection, org, dashboard);
log.WriteLine($"Dashboard SQL ({parameters.Count} parameters):\n  {sql}\n");

// The service accepts tokens signed with a key made for this run; the load sends a viewer's of the benchmark org.
var signingKey = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
var authorization = "Bearer " + DevelopmentTokens.Create(DevelopmentTokens.KeyFrom(signingKey), org,
    Guid.Parse("00000000-0000-4000-8000-0000000000ff"), TenantRole.Viewer, TimeSpan.FromHours(6));
using var service = ServiceProcess.Start(ownerConnection, signingKey, log);
await service.WaitReadyAsync();

var results = new List<LoadResult>();
var warmup = TimeSpan.FromSeconds(options.Quick ? 1 : 3);
var duration = TimeSpan.FromSeconds(options.Seconds);

// Direct: Npgsql, 16 connections, BEGIN + SET LOCAL ROLE + tenant + the statement in one batch, then ROLLBACK.
await using var appSource = new NpgsqlDataSourceBuilder(ownerConnection) { ConnectionStringBuilder = { MaxPoolSize = options.Clients + 4 } }.Build();
results.Add(await LoadRunner.RunAsync("dashboard, direct SQL (Npgsql)", options.Clients, warmup, duration, client =>
    Task.FromResult<Func<CancellationToken, Task>>(async ct =>
    {
        await using var conn = await appSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using var batch = TenantBatch(conn, tx, org, null);
        var query = new NpgsqlBatchCommand(sql);
        foreach (var p in parameters)
            query.Parameters.Add(new NpgsqlParameter { Value = p.Value, NpgsqlDbType = p.NpgsqlDbType });
        batch.BatchCommands.Add(query);
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.NextResultAsync(ct);
        var rows = 0;
        while (await reader.ReadAsync(ct))
        {
            for (var i = 0; i < reader.FieldCount; i++)
                _ = reader.IsDBNull(i) ? null : reader.GetString(i);
            rows++;
        }
        if (rows == 0)
            throw new InvalidOperationException("the dashboard returned no rows");
    }), () => CpuSample.Take(service.Process)));

// GraphQL: the same question over HTTP on loopback.
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Clients }) { BaseAddress = service.Address };
results.Add(await LoadRunner.RunAsync("dashboard, GraphQL over HTTP", options.Clients, warmup, duration, client =>
    Task.FromResult<Func<CancellationToken, Task>>(async ct =>
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/graphql") { Content = JsonContent.Create(new { query = dashboard }) };
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var response = await http.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        if (body.Length < 100)
            throw new InvalidOperationException("the dashboard returned no rows");
    }), () => CpuSample.Take(service.Process)));

// Writes: the step lifecycle (startWorkflowStep, then completeWorkflowStep) by 16 workers, each on its own run.
var operatorAuthorization = "Bearer " + DevelopmentTokens.Create(DevelopmentTokens.KeyFrom(signingKey), org,
    Guid.Parse("00000000-0000-4000-8000-0000000000fe"), TenantRole.Operator, TimeSpan.FromHours(6));
var (workflowId, nodeId) = await BenchRunsAsync(ownerConnection, org);
async Task<long> NewRunAsync()
{
    await using var conn = await appSource.OpenConnectionAsync();
    await using var start = new NpgsqlCommand("SELECT start_workflow_execution($1, 'web')", conn) { Parameters = { new() { Value = workflowId } } };
    return (long)(await start.ExecuteScalarAsync())!;
}

async Task<object?> CallAsTenantAsync(NpgsqlConnection conn, string sql, object[] values, CancellationToken ct)
{
    await using var tx = await conn.BeginTransactionAsync(ct);
    await using var batch = TenantBatch(conn, tx, org, Guid.Parse("00000000-0000-4000-8000-0000000000fe"));
    var call = new NpgsqlBatchCommand(sql);
    foreach (var value in values)
        call.Parameters.Add(new NpgsqlParameter { Value = value });
    batch.BatchCommands.Add(call);
    object? result;
    await using (var reader = await batch.ExecuteReaderAsync(ct))
    {
        await reader.NextResultAsync(ct);
        await reader.ReadAsync(ct);
        result = reader.GetDataTypeName(0) == "void" ? null : reader.GetValue(0);
    }
    await tx.CommitAsync(ct);
    return result;
}

results.Add(await LoadRunner.RunAsync("step lifecycle, direct SQL (Npgsql)", options.Clients, warmup, duration, async client =>
{
    var traceId = await NewRunAsync();
    var stepNumber = 0;
    return async ct =>
    {
        await using var conn = await appSource.OpenConnectionAsync(ct);
        var stepId = (long)(await CallAsTenantAsync(conn, "SELECT start_workflow_step($1, $2, $3, '{\"attempt\": 1}'::jsonb)", [traceId, nodeId, ++stepNumber], ct))!;
        await CallAsTenantAsync(conn, "SELECT complete_workflow_step($1, 'completed', '{\"ok\": true}'::jsonb, NULL)", [stepId], ct);
    };
}, () => CpuSample.Take(service.Process)));

const string startStep = "mutation ($t: Long!, $n: Int!, $s: Int!) { startWorkflowStep(input: { traceId: $t, nodeId: $n, stepNumber: $s, inputData: { attempt: 1 } }) { step { id } errors { __typename } } }";
const string completeStep = "mutation ($id: Long!) { completeWorkflowStep(input: { stepId: $id, status: COMPLETED, outputData: { ok: true } }) { step { id status } errors { __typename } } }";
results.Add(await LoadRunner.RunAsync("step lifecycle, GraphQL over HTTP", options.Clients, warmup, duration, async client =>
{
    var traceId = await NewRunAsync();
    var stepNumber = 0;
    async Task<JsonElement> MutateAsync(string query, object variables, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/graphql") { Content = JsonContent.Create(new { query, variables }) };
        request.Headers.TryAddWithoutValidation("Authorization", operatorAuthorization);
        using var response = await http.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        var payload = body.GetProperty("data").EnumerateObject().First().Value;
        if (payload.GetProperty("errors").ValueKind != JsonValueKind.Null)
            throw new InvalidOperationException(payload.GetProperty("errors").ToString());
        return payload;
    }
    return async ct =>
    {
        var started = await MutateAsync(startStep, new { t = traceId, n = nodeId, s = ++stepNumber }, ct);
        await MutateAsync(completeStep, new { id = started.GetProperty("step").GetProperty("id").GetInt64() }, ct);
    };
}, () => CpuSample.Take(service.Process)));

log.WriteLine();
log.WriteLine($"{"scenario",-38} {"ops/s",9} {"p50 ms",8} {"p99 ms",8} {"failed",7} {"ratio",7}   CPU ms/op: service  client  postgres");
for (var i = 0; i < results.Count; i++)
{
    var r = results[i];
    var baseline = results[i - i % 2].PerSecond; // each GraphQL scenario follows its direct baseline
    log.WriteLine($"{r.Name,-38} {r.PerSecond,9:0} {r.P50Ms,8:0.00} {r.P99Ms,8:0.00} {r.Failures,7} {r.PerSecond / baseline,7:0.00}x" +
                  $"   {r.CpuMs(c => c.Service),17:0.00} {r.CpuMs(c => c.Client),7:0.00} {r.CpuMs(c => c.Postgres),9:0.00}");
}
log.WriteLine($"\nGoals: dashboard at least 0.60x of direct SQL — {(results[1].PerSecond / results[0].PerSecond >= 0.6 ? "met" : "NOT met")}; " +
              $"step lifecycle at least 0.50x — {(results[3].PerSecond / results[2].PerSecond >= 0.5 ? "met" : "NOT met")}.");
return results.Any(r => r.Failures > 0) ? 1 : 0;

// The same tenant setup the service sends first in every request (role, org, user, timeout, UTC).
static NpgsqlBatch TenantBatch(NpgsqlConnection conn, NpgsqlTransaction tx, Guid org, Guid? user)
{
    var batch = new NpgsqlBatch(conn, tx);
    foreach (var command in TenantSession.TenantCommands(org, user, ("statement_timeout", "30s"), ("TimeZone", "UTC")))
        batch.BatchCommands.Add(command);
    return batch;
}

// The first workflow of the organisation and one of its nodes; the runs are started per worker.
static async Task<(Guid Workflow, int Node)> BenchRunsAsync(string connection, Guid org)
{
    await using var source = NpgsqlDataSource.Create(connection);
    await using var command = source.CreateCommand(
        "SELECT w.id, n.id FROM workflows w JOIN workflow_nodes n ON n.workflow_id = w.id WHERE w.org_id = $1 ORDER BY w.name, n.position LIMIT 1");
    command.Parameters.Add(new NpgsqlParameter { Value = org });
    await using var reader = await command.ExecuteReaderAsync();
    await reader.ReadAsync();
    return (reader.GetGuid(0), reader.GetInt32(1));
}

static async Task<(string Sql, IReadOnlyList<NpgsqlParameter> Parameters)> CaptureStatementAsync(string connection, Guid org, string query)
{
    var capture = new CapturedStatements();
    var services = new ServiceCollection();
    var configuration = new ConfigurationBuilder().Build();
    services.AddLogging();
    services.AddSingleton<IConfiguration>(configuration);
    services.AddGraphQLApi(configuration);
    services.AddSingleton(NpgsqlDataSource.Create(connection));
    services.AddSingleton<IStatementObserver>(capture);
    services.AddScoped(_ => new RequestTenant(org, null, TenantRole.Viewer));
    await using var provider = services.BuildServiceProvider();
    await using var scope = provider.CreateAsyncScope();
    var result = await scope.ServiceProvider.GetRequiredService<GraphQLExecution>()
        .ExecuteAsync(new GraphQLRequest { Query = query }, scope.ServiceProvider, GraphQLTransport.HttpPost, CancellationToken.None);
    if (result.Errors is { Count: > 0 })
        throw new InvalidOperationException(result.Errors[0].Message);
    return capture.Single;
}

internal sealed class CapturedStatements : IStatementObserver
{
    public (string Sql, IReadOnlyList<NpgsqlParameter> Parameters) Single { get; private set; }

    public void OnStatement(string sql, IReadOnlyList<NpgsqlParameter> parameters) =>
        Single = (sql, parameters.Select(p => new NpgsqlParameter { Value = p.Value, NpgsqlDbType = p.NpgsqlDbType }).ToList());
}

internal sealed record BenchOptions(int Traces, int Clients, int Seconds, bool Quick)
{
    public static BenchOptions Parse(string[] args)
    {
        var quick = args.Contains("--quick");
        int Value(string name, int fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        }
        return new BenchOptions(Value("--traces", quick ? 10_000 : 100_000), Value("--clients", 16), Value("--seconds", quick ? 5 : 20), quick);
    }
}
