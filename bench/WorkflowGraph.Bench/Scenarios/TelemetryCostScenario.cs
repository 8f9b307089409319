namespace WorkflowGraph.Bench.Scenarios;

/// <summary>
/// What OpenTelemetry costs on the dashboard: the benchmark's service (telemetry on, as deployed by default: every
/// request traced with Npgsql's spans, the metrics kept and scraped from <c>/metrics</c> every second) next to a second
/// instance of the same build with <c>OTEL_SDK_DISABLED=true</c>, measured one after the other in the same run, off
/// first. Spans are sampled and recorded but exported nowhere (no collector here): an exporter's own cost is not in it.
/// </summary>
public sealed class TelemetryCostScenario : IScenario
{
    public string Name => "telemetry cost (dashboard)";

    public ScenarioGoals Goals { get; } = new(MinOfTelemetryOff: 0.95);

    public async Task<IReadOnlyList<LoadResult>> RunAsync(BenchContext bench)
    {
        using var off = ServiceProcess.Start(bench.Logins, bench.SigningKey, bench.Log,
            new Dictionary<string, string> { ["OTEL_SDK_DISABLED"] = "true" });
        await off.WaitReadyAsync();
        using var offHttp = BenchContext.Client(off.Address, bench.Options.Clients);
        var results = new List<LoadResult>
        {
            await bench.MeasureAsync(Name, Server.WorkflowGraphTelemetryOff, _ => Task.FromResult<Func<CancellationToken, Task>>(
                async ct => await BenchContext.PostAsync(offHttp, bench.ViewerToken, DashboardScenario.Query, null, ct)), serving: off),
        };
        using var scraping = new CancellationTokenSource();
        var scraper = ScrapeEverySecondAsync(bench.ServiceHttp, scraping.Token);
        results.Insert(0, await bench.MeasureAsync(Name, Server.WorkflowGraph, _ => Task.FromResult<Func<CancellationToken, Task>>(
            async ct => await BenchContext.PostAsync(bench.ServiceHttp, bench.ViewerToken, DashboardScenario.Query, null, ct))));
        await scraping.CancelAsync();
        var scrapes = await scraper;
        bench.Log.WriteLine($"  /metrics scraped {scrapes} times while telemetry was on");
        return results;
    }

    private static async Task<int> ScrapeEverySecondAsync(HttpClient http, CancellationToken stop)
    {
        var scrapes = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                using var response = await http.GetAsync("/metrics", stop);
                response.EnsureSuccessStatusCode();
                scrapes++;
            }
        }
        catch (OperationCanceledException)
        {
        }
        return scrapes;
    }
}
