namespace WorkflowGraph.Bench.Scenarios;

/// <summary>
/// What OpenTelemetry costs on the dashboard, three instances of the same build measured one after the other in the
/// same run: with <c>OTEL_SDK_DISABLED=true</c> (first); exporting every request's spans (the HTTP request, the
/// operation, Npgsql's statements) over OTLP/HTTP to <see cref="OtlpSink"/>, a collector in this process that only
/// counts them; and the benchmark's own service, as deployed without a collector (metrics kept and scraped from
/// <c>/metrics</c> every second; no spans recorded, since none would go anywhere).
/// </summary>
public sealed class TelemetryCostScenario : IScenario
{
    public string Name => "telemetry cost (dashboard)";

    public ScenarioGoals Goals { get; } = new(MinOfTelemetryOff: 0.95);

    public async Task<IReadOnlyList<LoadResult>> RunAsync(BenchContext bench)
    {
        var off = new Dictionary<string, string> { ["OTEL_SDK_DISABLED"] = "true" };
        var results = new List<LoadResult> { await MeasureInstanceAsync(bench, Server.WorkflowGraphTelemetryOff, off) };
        await using (var sink = await OtlpSink.StartAsync())
        {
            results.Add(await MeasureInstanceAsync(bench, Server.WorkflowGraphTraced, new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = sink.TracesEndpoint,
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_METRICS_EXPORTER"] = "none",
            }));
            bench.Log.WriteLine($"  spans exported: {sink.Exports} exports, {sink.Bytes / 1024.0 / 1024.0:0.0} MB");
        }
        using var scraping = new CancellationTokenSource();
        var scraper = ScrapeEverySecondAsync(bench.ServiceHttp, scraping.Token);
        results.Insert(0, await bench.MeasureAsync(Name, Server.WorkflowGraph, Dashboards(bench, bench.ServiceHttp)));
        await scraping.CancelAsync();
        var scrapes = await scraper;
        bench.Log.WriteLine($"  /metrics scraped {scrapes} times while telemetry was on");
        return results;
    }

    private async Task<LoadResult> MeasureInstanceAsync(BenchContext bench, Server server, Dictionary<string, string> environment)
    {
        using var instance = ServiceProcess.Start(bench.Logins, bench.SigningKey, bench.Log, environment);
        await instance.WaitReadyAsync();
        using var http = BenchContext.Client(instance.Address, bench.Options.Clients);
        return await bench.MeasureAsync(Name, server, Dashboards(bench, http), serving: instance);
    }

    /// <summary>Each client asks <paramref name="http"/>'s instance for the dashboard, as a viewer.</summary>
    private static Func<int, Task<Func<CancellationToken, Task>>> Dashboards(BenchContext bench, HttpClient http) =>
        _ => Task.FromResult<Func<CancellationToken, Task>>(
            async ct => await BenchContext.PostAsync(http, bench.ViewerToken, DashboardScenario.Query, null, ct));

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
