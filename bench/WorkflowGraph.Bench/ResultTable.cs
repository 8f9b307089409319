using System.Globalization;
using WorkflowGraph.Bench.Scenarios;

namespace WorkflowGraph.Bench;

/// <summary>
/// The one table the benchmark prints (as Markdown, so it can go into bench/README.md as it is): a row per scenario
/// and server; a baseline's ratio is WorkflowGraph's throughput divided by the baseline's in the same scenario.
/// Then the goals, met or not.
/// </summary>
public static class ResultTable
{
    public static bool Print(TextWriter log, IReadOnlyList<(IScenario Scenario, IReadOnlyList<LoadResult> Results)> runs)
    {
        static string F(double value, string format) => double.IsNaN(value) ? "—" : value.ToString(format, CultureInfo.InvariantCulture);
        log.WriteLine();
        log.WriteLine("| scenario | server | ops/s | p50 ms | p99 ms | server CPU ms/op | PostgreSQL CPU ms/op | peak server MB | " +
                      "other processes, cores | WorkflowGraph ÷ this |");
        log.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var (_, results) in runs)
            foreach (var r in results)
            {
                var ours = results.FirstOrDefault(x => x.Server == Server.WorkflowGraph && x.Scenario == r.Scenario);
                var ratio = r.Server == Server.WorkflowGraph || ours is null ? "" : $"**{F(ours.PerSecond / r.PerSecond, "0.00")}x**";
                var serverCpu = r.Server == Server.DirectSql ? "—" : F(r.CpuMs(c => c.Service), "0.00");
                var failed = r.Failures > 0 ? $" ({r.Failures} failed)" : "";
                log.WriteLine($"| {r.Scenario} | {BenchContext.ServerLabel(r.Server)} | {F(r.PerSecond, "0")}{failed} | " +
                              $"{F(r.P50Ms, "0.0")} | {F(r.P99Ms, "0.0")} | {serverCpu} | {F(r.CpuMs(c => c.Postgres), "0.00")} | " +
                              $"{(r.PeakMemoryMb is { } mb ? F(mb, "0") : "—")} | " +
                              $"{F(r.OtherCores, "0.00")}{(r.Busy ? " (busy)" : "")} | {ratio} |");
            }

        log.WriteLine();
        var allMet = true;
        foreach (var (scenario, results) in runs)
        {
            var ours = results.FirstOrDefault(x => x.Server == Server.WorkflowGraph);
            if (ours is null)
                continue;
            var checks = new List<string>();
            void Check(bool met, string text)
            {
                allMet &= met;
                checks.Add($"{text} — {(met ? "met" : "NOT met")}");
            }
            if (scenario.Goals.MinOfDirect is { } ofDirect
                && results.FirstOrDefault(x => x.Server == Server.DirectSql && x.Scenario == ours.Scenario) is { } direct)
                Check(ours.PerSecond / direct.PerSecond >= ofDirect,
                    $"{F(ours.PerSecond / direct.PerSecond, "0.00")}x of direct SQL (goal ≥ {ofDirect:0.0#}x)");
            if (results.FirstOrDefault(x => x.Server == Server.DirectHttp && x.Scenario == ours.Scenario) is { } overHttp)
                checks.Add($"{F(ours.PerSecond / overHttp.PerSecond, "0.00")}x of the direct pages over HTTP (no goal: what HTTP " +
                           "alone leaves of the direct baseline)");
            var peerRow = results.FirstOrDefault(x => x.Server == Server.PostGraphile && x.Scenario == ours.Scenario);
            if (scenario.Goals.MinTimesPeer is { } timesPeer)
            {
                if (peerRow is not null)
                    Check(ours.PerSecond / peerRow.PerSecond >= timesPeer,
                        $"{F(ours.PerSecond / peerRow.PerSecond, "0.00")}x PostGraphile (goal ≥ {timesPeer:0.#}x)");
                else
                    checks.Add("PostGraphile not measured");
            }
            if (scenario.Goals.MaxServiceCpuMs is { } maxCpu)
                Check(ours.CpuMs(c => c.Service) <= maxCpu,
                    $"service CPU {F(ours.CpuMs(c => c.Service), "0.00")} ms per operation (goal ≤ {maxCpu:0.00} ms)");
            if (scenario.Goals.PostgresCpuAtMostPeer && peerRow is not null)
                Check(ours.CpuMs(c => c.Postgres) <= peerRow.CpuMs(c => c.Postgres),
                    $"PostgreSQL CPU {F(ours.CpuMs(c => c.Postgres), "0.00")} ms per operation, " +
                    $"{F(peerRow.CpuMs(c => c.Postgres), "0.00")} through PostGraphile (goal: at most PostGraphile's)");
            if (scenario.Goals.MinOfTelemetryOff is { } ofOff
                && results.FirstOrDefault(x => x.Server == Server.WorkflowGraphTelemetryOff) is { } off)
            {
                Check(ours.PerSecond / off.PerSecond >= ofOff,
                    $"telemetry on: {F(ours.PerSecond / off.PerSecond, "0.00")}x of off (goal ≥ {ofOff:0.00}x)");
                if (results.FirstOrDefault(x => x.Server == Server.WorkflowGraphTraced) is { } traced)
                    Check(traced.PerSecond / off.PerSecond >= ofOff,
                        $"spans exported: {F(traced.PerSecond / off.PerSecond, "0.00")}x of off (goal ≥ {ofOff:0.00}x)");
            }
            if (scenario.Goals.MaxP99Ms is { } maxP99)
                foreach (var r in results.Where(x => x.Server == Server.WorkflowGraph))
                {
                    // a scenario may ask less of one client's p99 than of the many clients' (the queue adds to the latter)
                    var goal = r.Clients == 1 && scenario.Goals.MaxP99MsOneClient is { } one ? one : maxP99;
                    Check(r.P99Ms <= goal,
                        $"p99 {F(r.P99Ms, "0.0")} ms at {r.Clients} client{(r.Clients == 1 ? "" : "s")} (goal ≤ {goal:0} ms)");
                }
            if (checks.Count > 0)
                log.WriteLine($"- {scenario.Name}: {string.Join("; ", checks)}");
        }
        var busy = runs.SelectMany(r => r.Results).Where(r => r.Busy).ToList();
        if (busy.Count > 0)
        {
            log.WriteLine();
            log.WriteLine($"BUSY MACHINE: other processes used a quarter of a core or more while {busy.Count} of these rows were " +
                          "measured (column \"other processes\"); their figures, and goals read from them, are relative only. " +
                          "Measure again on a quiet machine.");
        }
        return allMet;
    }
}
