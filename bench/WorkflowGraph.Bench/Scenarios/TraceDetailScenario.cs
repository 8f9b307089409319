using System.Globalization;
using WorkflowGraph.Querying.Model;

namespace WorkflowGraph.Bench.Scenarios;

/// <summary>
/// The trace detail page: one run with its workflow, steps, events and context, as a viewer. The clients walk
/// through the organisation's 2,000 newest runs, so the page is not always the same few cached rows.
/// </summary>
public sealed class TraceDetailScenario : IScenario
{
    private const string Query = """
        query ($id: ID!) { trace(id: $id) {
            id status channel externalId startTime endTime durationMs errorMessage workflow { name }
            steps { id stepNumber status retryCount durationMs errorMessage startTime endTime }
            events { id stepId eventType eventData createdAt }
            context { key value } } }
        """;

    private const string PeerQuery = """
        query ($id: BigInt!) { workflowTraceByRowId(rowId: $id) {
            rowId status channel externalId startTime endTime durationMs errorMessage workflowByWorkflowIdAndOrgId { name }
            workflowStepsByTraceIdAndOrgId(orderBy: STEP_NUMBER_ASC) {
                nodes { rowId stepNumber status retryCount durationMs errorMessage startTime endTime } }
            workflowEventsByTraceIdAndOrgId(orderBy: PRIMARY_KEY_ASC) { nodes { rowId stepId eventType eventData createdAt } }
            workflowTraceContextsByTraceIdAndOrgId(orderBy: KEY_ASC) { nodes { key value } } } }
        """;

    public string Name => "trace detail (steps, events, context)";

    // the read goals of bench/README.md ("Goals"): throughput against both baselines, and what each request may cost
    // the service and PostgreSQL
    public ScenarioGoals Goals { get; } = new(MinOfDirect: 0.85, MinTimesPeer: 3, MaxServiceCpuMs: 0.45, PostgresCpuAtMostPeer: true);

    public async Task<IReadOnlyList<LoadResult>> RunAsync(BenchContext bench)
    {
        var ids = await bench.RecentTracesAsync();
        // clients send the runs' global ids, encoded before the clock starts
        var globalIds = ids.ToDictionary(id => id, id => GlobalId.Encode("WorkflowTrace", id.ToString(CultureInfo.InvariantCulture)));
        var (sql, parameters) = await bench.CaptureStatementAsync(Query, $$"""{"id": "{{globalIds[ids[0]]}}"}""");
        bench.Log.WriteLine($"  trace detail SQL ({parameters.Count} parameters): {sql}");
        // every run the clients will walk, before the clock starts: the hand-written page answers what the service does
        var check = new DirectPages();
        foreach (var id in ids)
        {
            await check.TraceAsync(bench.Direct, id, CancellationToken.None);
            var served = await BenchContext.PostAsync(bench.ServiceHttp, bench.ViewerToken, Query, new { id = globalIds[id] },
                CancellationToken.None);
            if (DirectPages.Difference(served, check.LastPage.Span) is { } difference)
                throw new InvalidOperationException($"the direct trace detail page of run {id} differs from the service's: {difference}");
        }

        // each client starts at its own place in the list and walks on
        Func<int, Task<Func<CancellationToken, Task>>> Walk(Func<long, CancellationToken, Task> fetch) => client =>
        {
            var next = client * ids.Count / bench.Options.Clients;
            return Task.FromResult<Func<CancellationToken, Task>>(ct => fetch(ids[next++ % ids.Count], ct));
        };

        var results = new List<LoadResult>
        {
            await bench.MeasureAsync(Name, Server.WorkflowGraph, Walk((id, ct) =>
                BenchContext.PostAsync(bench.ServiceHttp, bench.ViewerToken, Query, new { id = globalIds[id] }, ct))),
            // the direct baseline writes the page by hand (DirectPages), one writer per client
            await bench.MeasureAsync(Name, Server.DirectSql, client =>
            {
                var page = new DirectPages();
                return Walk(async (id, ct) =>
                {
                    if (await page.TraceAsync(bench.Direct, id, ct) == 0)
                        throw new InvalidOperationException($"trace {id} not found");
                })(client);
            }),
        };
        // the same pages behind the least HTTP (DirectHttpServer): what the transport alone leaves of the direct baseline
        using (var overHttp = await DirectHttpServer.StartAsync(bench))
        {
            var page = await BenchContext.GetAsync(overHttp.Http, bench.ViewerToken, Path(ids[0]), CancellationToken.None);
            var served = await BenchContext.PostAsync(bench.ServiceHttp, bench.ViewerToken, Query, new { id = globalIds[ids[0]] },
                CancellationToken.None);
            if (DirectPages.Difference(served, page) is { } difference)
                throw new InvalidOperationException($"the direct trace detail page over HTTP differs from the service's: {difference}");
            results.Add(await bench.MeasureAsync(Name, Server.DirectHttp,
                Walk((id, ct) => BenchContext.GetAsync(overHttp.Http, bench.ViewerToken, Path(id), ct)), servingProcess: overHttp.Process));
        }
        if (bench.PeerHttp is { } peer)
            results.Add(await bench.MeasureAsync(Name, Server.PostGraphile, Walk((id, ct) =>
                BenchContext.PostAsync(peer, bench.ViewerToken, PeerQuery,
                    new { id = id.ToString(System.Globalization.CultureInfo.InvariantCulture) }, ct))));
        return results;
    }

    private static string Path(long id) => "/traces/" + id.ToString(CultureInfo.InvariantCulture);

}
