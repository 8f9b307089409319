using System.Diagnostics;

namespace WorkflowGraph.Bench;

/// <summary>Throughput and latency of one operation run by N concurrent clients for a fixed time.</summary>
public sealed record LoadResult(string Name, int Clients, double Seconds, long Requests, long Failures, double P50Ms, double P99Ms)
{
    public double PerSecond => Requests / Seconds;

    /// <summary>CPU used while measuring, per request: service, load generator, PostgreSQL.</summary>
    public CpuSample? Cpu { get; init; }

    public double CpuMs(Func<CpuSample, TimeSpan> part) => Cpu is null || Requests == 0 ? double.NaN : part(Cpu).TotalMilliseconds / Requests;
}

public static class LoadRunner
{
    public static async Task<LoadResult> RunAsync(string name, int clients, TimeSpan warmup, TimeSpan duration,
        Func<int, Task<Func<CancellationToken, Task>>> createClient, Func<CpuSample>? sampleCpu = null)
    {
        var operations = new List<Func<CancellationToken, Task>>();
        for (var i = 0; i < clients; i++)
            operations.Add(await createClient(i));

        using (var warm = new CancellationTokenSource(warmup))
            await Task.WhenAll(operations.Select(op => Loop(op, warm.Token, null)));

        var latencies = new List<double>[clients];
        var failures = new long[clients];
        using var measured = new CancellationTokenSource(duration);
        var cpuBefore = sampleCpu?.Invoke();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(operations.Select((op, i) =>
        {
            latencies[i] = new List<double>(100_000);
            return Loop(op, measured.Token, latencies[i], () => failures[i]++);
        }));
        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = cpuBefore is null ? null : sampleCpu!().Minus(cpuBefore);
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new LoadResult(name, clients, seconds, all.LongLength, failures.Sum(),
            Percentile(all, 0.50), Percentile(all, 0.99)) { Cpu = cpu };
    }

    private static async Task Loop(Func<CancellationToken, Task> operation, CancellationToken stop, List<double>? latencies, Action? failed = null)
    {
        while (!stop.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await operation(CancellationToken.None);
                latencies?.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            catch (Exception) when (latencies is not null)
            {
                failed?.Invoke();
            }
        }
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
