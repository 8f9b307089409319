namespace WorkflowGraph.Bench.Scenarios;

/// <summary>
/// An analytics page: the first page (20 rows, in the API's default order) of one of the aggregate views for the
/// viewer's organisation. Each view aggregates all of the organisation's runs or steps per request.
/// </summary>
public sealed class AnalyticsScenario(string name, string query, string peerQuery) : IScenario
{
    public static AnalyticsScenario ChannelPerformance { get; } = new("analytics: channelPerformance", """
        { channelPerformance(first: 20) { nodes { workflowId workflowName channel totalExecutions completedExecutions failedExecutions
            inProgressExecutions successRate avgDurationMs p50DurationMs p95DurationMs lastExecutionAt } } }
        """, """
        { allVWorkflowChannelPerformances(first: 20, orderBy: [WORKFLOW_NAME_ASC, WORKFLOW_ID_ASC, CHANNEL_ASC]) {
            nodes { workflowId workflowName channel totalExecutions completedExecutions failedExecutions inProgressExecutions
                successRate avgDurationMs p50DurationMs p95DurationMs lastExecutionAt } } }
        """);

    public static AnalyticsScenario NodeExecutionStats { get; } = new("analytics: nodeExecutionStats", """
        { nodeExecutionStats(first: 20) { nodes { nodeId nodeName workflowName totalExecutions completedExecutions failedExecutions
            successRate avgDurationMs p50DurationMs p95DurationMs maxDurationMs totalRetries lastExecutedAt } } }
        """, """
        { allVNodeExecutionStats(first: 20, orderBy: [WORKFLOW_NAME_ASC, NODE_ID_ASC]) {
            nodes { nodeId nodeName workflowName totalExecutions completedExecutions failedExecutions successRate avgDurationMs
                p50DurationMs p95DurationMs maxDurationMs totalRetries lastExecutedAt } } }
        """);

    public string Name => name;

    public ScenarioGoals Goals { get; } = new(MaxP99Ms: 50, MinTimesPeer: 1, PostgresCpuAtMostPeer: true);

    public async Task<IReadOnlyList<LoadResult>> RunAsync(BenchContext bench)
    {
        var (sql, parameters) = await bench.CaptureStatementAsync(query);
        bench.Log.WriteLine($"  {name} SQL ({parameters.Count} parameters): {sql}");
        Func<int, Task<Func<CancellationToken, Task>>> Each(Func<CancellationToken, Task> fetch) => _ => Task.FromResult(fetch);
        var graphql = Each(ct => BenchContext.PostAsync(bench.ServiceHttp, bench.ViewerToken, query, null, ct));
        var results = new List<LoadResult>
        {
            await bench.MeasureAsync(name, Server.WorkflowGraph, graphql),
            // one user opening the page: latency without the queueing of 16 clients on 2 cores
            (await bench.MeasureAsync(name + ", 1 client", Server.WorkflowGraph, graphql, clients: 1)),
            await bench.MeasureAsync(name, Server.DirectSql, Each(async ct =>
            {
                if (await bench.ReadDirectAsync(sql, parameters, ct) == 0)
                    throw new InvalidOperationException($"{name} returned no rows");
            })),
        };
        if (bench.PeerHttp is { } peer)
            results.Add(await bench.MeasureAsync(name, Server.PostGraphile,
                Each(ct => BenchContext.PostAsync(peer, bench.ViewerToken, peerQuery, null, ct))));
        return results;
    }
}
