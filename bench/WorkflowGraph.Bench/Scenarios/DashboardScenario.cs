namespace WorkflowGraph.Bench.Scenarios;

/// <summary>
/// The dashboard (DESIGN.md §5): one organisation's 50 newest completed web runs, each with its steps, under row
/// level security, as a viewer.
/// </summary>
public sealed class DashboardScenario : IScenario
{
    public const string Query = """
        { traces(first: 50, where: { status: { eq: COMPLETED }, channel: { eq: WEB } }) {
            nodes { id status channel startTime steps { id status durationMs } } } }
        """;

    // PostGraphile's names: condition for equality, orderBy enum, the backward relation's connection.
    private const string PeerQuery = """
        { allWorkflowTraces(first: 50, condition: { status: "completed", channel: "web" }, orderBy: [START_TIME_DESC, ROW_ID_DESC]) {
            nodes { rowId status channel startTime
                workflowStepsByTraceIdAndOrgId(orderBy: STEP_NUMBER_ASC) { nodes { rowId status durationMs } } } } }
        """;

    public string Name => "dashboard (50 runs + steps)";

    // the read goals of bench/README.md ("Goals"): throughput against both baselines, and what each request may cost
    // the service and PostgreSQL
    public ScenarioGoals Goals { get; } = new(MinOfDirect: 0.85, MinTimesPeer: 3, MaxServiceCpuMs: 0.45, PostgresCpuAtMostPeer: true);

    public async Task<IReadOnlyList<LoadResult>> RunAsync(BenchContext bench)
    {
        var (sql, parameters) = await bench.CaptureStatementAsync(Query);
        bench.Log.WriteLine($"  dashboard SQL ({parameters.Count} parameters): {sql}");
        var check = new DirectPages();
        await check.DashboardAsync(bench.Direct, CancellationToken.None);
        var served = await BenchContext.PostAsync(bench.ServiceHttp, bench.ViewerToken, Query, null, CancellationToken.None);
        if (DirectPages.Difference(served, check.LastPage.Span) is { } difference)
            throw new InvalidOperationException($"the direct dashboard page differs from the service's: {difference}");
        var results = new List<LoadResult>
        {
            await bench.MeasureAsync(Name, Server.WorkflowGraph, _ => Task.FromResult<Func<CancellationToken, Task>>(async ct =>
                await BenchContext.PostAsync(bench.ServiceHttp, bench.ViewerToken, Query, null, ct))),
            // the direct baseline writes the page by hand (DirectPages), one writer per client
            await bench.MeasureAsync(Name, Server.DirectSql, _ =>
            {
                var page = new DirectPages();
                return Task.FromResult<Func<CancellationToken, Task>>(async ct =>
                {
                    if (await page.DashboardAsync(bench.Direct, ct) == 0)
                        throw new InvalidOperationException("the dashboard returned no rows");
                });
            }),
        };
        // the same page behind the least HTTP (DirectHttpServer): what the transport alone leaves of the direct baseline
        using (var overHttp = await DirectHttpServer.StartAsync(bench))
        {
            var page = await BenchContext.GetAsync(overHttp.Http, bench.ViewerToken, "/dashboard", CancellationToken.None);
            if (DirectPages.Difference(served, page) is { } differs)
                throw new InvalidOperationException($"the direct dashboard page over HTTP differs from the service's: {differs}");
            results.Add(await bench.MeasureAsync(Name, Server.DirectHttp, _ => Task.FromResult<Func<CancellationToken, Task>>(ct =>
                BenchContext.GetAsync(overHttp.Http, bench.ViewerToken, "/dashboard", ct)), servingProcess: overHttp.Process));
        }
        if (bench.PeerHttp is { } peer)
            results.Add(await bench.MeasureAsync(Name, Server.PostGraphile, _ => Task.FromResult<Func<CancellationToken, Task>>(async ct =>
                await BenchContext.PostAsync(peer, bench.ViewerToken, PeerQuery, null, ct))));
        return results;
    }
}
