using System.Globalization;
using Npgsql;
using WorkflowGraph.Querying.Model;

namespace WorkflowGraph.Bench.Scenarios;

/// <summary>
/// Grouped statistics of the viewer's organisation over the last 30 days of its runs: served from the hourly rollups by
/// the service (1 and 16 clients), next to the same answer computed from the raw runs and steps — the statement the
/// service sends when a filter needs the raw rows, sent directly (1 and 16 clients), so the ratio column is rollups
/// against raw rows in the same run.
/// </summary>
public sealed class StatsScenario(string name, Func<string, string, Guid, string> query) : IScenario
{
    /// <summary>A daily series per channel: runs, success rate and duration percentiles per channel per day.</summary>
    public static StatsScenario DailySeries { get; } = new("stats: 30-day daily series per channel", (window, extra, _) => $$"""
        { traceStats(where: { {{window}} {{extra}} }, groupBy: [CHANNEL], bucket: { unit: DAY, timeZone: "UTC" }, first: 100) {
            totalCount nodes { key { channel bucketStart } count countByStatus { status count } successRate
              durationMs { avg p50 p95 p99 } } } }
        """);

    /// <summary>Node statistics of one workflow: steps per node with their success rate and duration percentiles.</summary>
    public static StatsScenario NodeStatistics { get; } = new("stats: node statistics of one workflow", (window, extra, workflow) => $$"""
        { stepStats(where: { {{window}} trace: { workflowId: { eq: "{{GlobalId.Encode("Workflow", workflow.ToString())}}" } } {{extra}} },
            groupBy: [NODE], order: [{ durationMs: { p95: DESC } }], first: 100) {
            totalCount nodes { key { nodeId } count countByStatus { status count } successRate durationMs { avg min max p50 p95 p99 } } } }
        """);

    /// <summary>A condition the rollups cannot answer that every row meets: the same rows, from the raw tables.</summary>
    private const string EveryRowRaw = "rowId: { gte: 0 }";

    public string Name => name;

    public ScenarioGoals Goals { get; } = new(MaxP99Ms: 50, MaxP99MsOneClient: 20);

    public async Task<IReadOnlyList<LoadResult>> RunAsync(BenchContext bench)
    {
        var (window, workflow) = await WindowAsync(bench);
        var rollups = query(window, "", workflow);
        var (rawSql, rawParameters) = await bench.CaptureStatementAsync(query(window, EveryRowRaw, workflow));
        bench.Log.WriteLine($"  {name} from raw rows, SQL ({rawParameters.Count} parameters): {rawSql}");
        Func<int, Task<Func<CancellationToken, Task>>> Each(Func<CancellationToken, Task> fetch) => _ => Task.FromResult(fetch);
        var graphql = Each(ct => BenchContext.PostAsync(bench.ServiceHttp, bench.ViewerToken, rollups, null, ct));
        var raw = Each(async ct =>
        {
            if (await bench.ReadDirectAsync(rawSql, rawParameters, ct) == 0)
                throw new InvalidOperationException($"{name} returned no rows");
        });
        return
        [
            await bench.MeasureAsync(name, Server.WorkflowGraph, graphql),
            await bench.MeasureAsync(name + ", 1 client", Server.WorkflowGraph, graphql, clients: 1),
            await bench.MeasureAsync(name, Server.DirectSql, raw),
            await bench.MeasureAsync(name + ", 1 client", Server.DirectSql, raw, clients: 1),
        ];
    }

    /// <summary>The 30 days of whole hours up to the organisation's newest generated run, and its first workflow (by name).</summary>
    private static async Task<(string Window, Guid Workflow)> WindowAsync(BenchContext bench)
    {
        await using var command = bench.Database.CreateCommand(
            "SELECT date_trunc('hour', max(t.start_time), 'UTC') + interval '1 hour', " +
            "(SELECT w.id FROM workflows w WHERE w.org_id = $1 ORDER BY w.name LIMIT 1) " +
            "FROM workflow_trace t WHERE t.org_id = $1 AND t.external_id LIKE 'EXT-%'");
        command.Parameters.Add(new NpgsqlParameter { Value = BenchContext.Org });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        var end = reader.GetFieldValue<DateTime>(0).ToUniversalTime();
        static string Iso(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        return ($"startTime: {{ gte: \"{Iso(end.AddDays(-30))}\", lt: \"{Iso(end)}\" }}", reader.GetGuid(1));
    }
}
