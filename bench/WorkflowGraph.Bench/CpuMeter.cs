using System.Diagnostics;

namespace WorkflowGraph.Bench;

/// <summary>CPU time used by the service, the benchmark itself and PostgreSQL, read from /proc.</summary>
public sealed record CpuSample(TimeSpan Service, TimeSpan Client, TimeSpan Postgres)
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    public static CpuSample Take(Process service)
    {
        service.Refresh();
        return new CpuSample(service.TotalProcessorTime, Process.GetCurrentProcess().TotalProcessorTime, PostgresTime());
    }

    public CpuSample Minus(CpuSample earlier) => new(Service - earlier.Service, Client - earlier.Client, Postgres - earlier.Postgres);

    /// <summary>
    /// Live PostgreSQL processes plus what the postmaster's exited children used (its cutime/cstime), so backends
    /// that close during a scenario still count.
    /// </summary>
    private static TimeSpan PostgresTime()
    {
        double ticks = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                if (!int.TryParse(Path.GetFileName(dir), out _) || !File.ReadAllText(Path.Combine(dir, "comm")).StartsWith("postgres", StringComparison.Ordinal))
                    continue;
                // fields after the ")" of the command name: state is field 3, utime 14, stime 15, cutime 16, cstime 17
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                ticks += double.Parse(fields[11]) + double.Parse(fields[12]) + double.Parse(fields[13]) + double.Parse(fields[14]);
            }
            catch (IOException)
            {
            }
        }
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }
}
