using System.Diagnostics;

namespace WorkflowGraph.Bench;

/// <summary>Which server answered the load: ours, or one of the baselines.</summary>
public enum Server
{
    WorkflowGraph,
    DirectSql,
    PostGraphile,
    /// <summary>The same service with OpenTelemetry off (<c>OTEL_SDK_DISABLED=true</c>).</summary>
    WorkflowGraphTelemetryOff,
    /// <summary>The same service exporting every request's spans over OTLP (to the bench's <see cref="OtlpSink"/>).</summary>
    WorkflowGraphTraced,
    /// <summary>The same service and query, with a token without the <c>phi:read</c> scope (PHI masked).</summary>
    WorkflowGraphPhiMasked,
    /// <summary>The direct baseline's hand-written pages served over HTTP by their own process (<see cref="DirectHttpServer"/>).</summary>
    DirectHttp,
}

/// <summary>Throughput and latency of one operation run by N concurrent clients for a fixed time.</summary>
public sealed record LoadResult(string Name, int Clients, double Seconds, long Requests, long Failures, double P50Ms, double P99Ms)
{
    public double PerSecond => Requests / Seconds;

    /// <summary>CPU used while measuring, per request: server, load generator, PostgreSQL.</summary>
    public CpuSample? Cpu { get; init; }

    public string Scenario { get; init; } = Name;

    public Server Server { get; init; }

    /// <summary>The serving process's peak resident memory during the scenario (null for direct SQL).</summary>
    public double? PeakMemoryMb { get; init; }

    /// <summary>The first error, when some requests failed.</summary>
    public string? FirstError { get; init; }

    /// <summary>Cores that other processes kept busy on average while this was measured (NaN without a CPU sample).</summary>
    public double OtherCores => Cpu is null || Seconds <= 0 ? double.NaN : Cpu.Other.TotalSeconds / Seconds;

    /// <summary>Other processes used at least a quarter of a core meanwhile: the figures are relative only.</summary>
    public bool Busy => OtherCores >= 0.25;

    public double CpuMs(Func<CpuSample, TimeSpan> part) =>
        Cpu is null || Requests == 0 ? double.NaN : part(Cpu).TotalMilliseconds / Requests;

    /// <summary>
    /// Two measurements of the same thing as one: requests, time and CPU added; the latencies are the higher of the two
    /// (percentiles of two runs cannot be merged without their samples, so this errs on the slow side).
    /// </summary>
    public LoadResult Combine(LoadResult other) =>
        new LoadResult(Name, Clients, Seconds + other.Seconds, Requests + other.Requests, Failures + other.Failures,
            Math.Max(P50Ms, other.P50Ms), Math.Max(P99Ms, other.P99Ms))
        {
            Cpu = Cpu is null || other.Cpu is null ? null : new CpuSample(Cpu.Service + other.Cpu.Service,
                Cpu.Client + other.Cpu.Client, Cpu.Postgres + other.Cpu.Postgres, Cpu.Machine + other.Cpu.Machine),
            Scenario = Scenario,
            Server = Server,
            PeakMemoryMb = PeakMemoryMb is null && other.PeakMemoryMb is null ? null
                : Math.Max(PeakMemoryMb ?? 0, other.PeakMemoryMb ?? 0),
            FirstError = FirstError ?? other.FirstError,
        };
}

public static class LoadRunner
{
    public static async Task<LoadResult> RunAsync(string name, int clients, TimeSpan warmup, TimeSpan duration,
        Func<int, Task<Func<CancellationToken, Task>>> createClient, Func<CpuSample>? sampleCpu = null)
    {
        var operations = new List<Func<CancellationToken, Task>>();
        for (var i = 0; i < clients; i++)
            operations.Add(await createClient(i));

        string? firstError = null;
        void Failed(Exception e) => Interlocked.CompareExchange(ref firstError, e.GetType().Name + ": " + e.Message, null);

        using (var warm = new CancellationTokenSource(warmup))
            await Task.WhenAll(operations.Select(op => Loop(op, warm.Token, null, Failed)));

        var latencies = new List<double>[clients];
        var failures = new long[clients];
        using var measured = new CancellationTokenSource(duration);
        var cpuBefore = sampleCpu?.Invoke();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(operations.Select((op, i) =>
        {
            latencies[i] = new List<double>(100_000);
            return Loop(op, measured.Token, latencies[i], e => { failures[i]++; Failed(e); });
        }));
        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = cpuBefore is null ? null : sampleCpu!().Minus(cpuBefore);
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new LoadResult(name, clients, seconds, all.LongLength, failures.Sum(),
            Percentile(all, 0.50), Percentile(all, 0.99))
        { Cpu = cpu, FirstError = firstError };
    }

    private static async Task Loop(Func<CancellationToken, Task> operation, CancellationToken stop, List<double>? latencies,
        Action<Exception> failed)
    {
        var consecutiveFailures = 0;
        while (!stop.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await operation(CancellationToken.None);
                latencies?.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                consecutiveFailures = 0;
            }
            catch (Exception e)
            {
                failed(e);
                // a client that only fails would spin: back off instead of measuring errors as throughput
                if (++consecutiveFailures > 3)
                    await Task.Delay(100, CancellationToken.None);
            }
        }
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
