namespace WorkflowGraph.Bench.Scenarios;

/// <summary>
/// The dashboard as a front-end with trusted documents sends it, <c>GET /graphql?documentId=…</c> (a short, cacheable
/// URL; the service looks the document up instead of reading it from the body), beside the same query as an ad-hoc
/// POST, in the same run and against the same service.
/// </summary>
public sealed class DashboardTrustedDocumentScenario : IScenario
{
    public string Name => "dashboard: trusted document (GET documentId) vs ad-hoc POST";

    public ScenarioGoals Goals { get; } = new();

    public async Task<IReadOnlyList<LoadResult>> RunAsync(BenchContext bench)
    {
        var adHoc = await bench.MeasureAsync("dashboard, ad-hoc POST", Server.WorkflowGraph,
            _ => Task.FromResult<Func<CancellationToken, Task>>(async ct =>
                await BenchContext.PostAsync(bench.ServiceHttp, bench.ViewerToken, DashboardScenario.Query, null, ct)));
        var trusted = await bench.MeasureAsync("dashboard, trusted document GET", Server.WorkflowGraph,
            _ => Task.FromResult<Func<CancellationToken, Task>>(async ct =>
                await BenchContext.GetDocumentAsync(bench.ServiceHttp, bench.ViewerToken, TrustedManifest.DashboardId, ct)));
        bench.Log.WriteLine($"  trusted document GET ÷ ad-hoc POST: {trusted.PerSecond / adHoc.PerSecond:0.00}x ops/s");
        return [adHoc, trusted];
    }
}
