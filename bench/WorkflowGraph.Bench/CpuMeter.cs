using System.Diagnostics;
using System.Globalization;

namespace WorkflowGraph.Bench;

/// <summary>
/// CPU time used by the serving process, the benchmark itself and the benchmark's PostgreSQL cluster, read from /proc;
/// and by the whole machine (/proc/stat), so that what anything else used meanwhile (<see cref="Other"/>) shows.
/// </summary>
public sealed record CpuSample(TimeSpan Service, TimeSpan Client, TimeSpan Postgres, TimeSpan Machine)
{
    /// <summary>CPU used by processes that are neither the server measured, the benchmark nor its PostgreSQL.</summary>
    public TimeSpan Other => TimeSpan.FromTicks(Math.Max(0, (Machine - Service - Client - Postgres).Ticks));

    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux
    private static int _postmaster;

    /// <summary>
    /// Counts only the cluster in <paramref name="dataDirectory"/> (its postmaster.pid), not other PostgreSQL
    /// clusters on the machine (test runs start their own).
    /// </summary>
    public static void UseCluster(string dataDirectory) =>
        _postmaster = int.Parse(File.ReadLines(Path.Combine(dataDirectory, "postmaster.pid")).First().Trim(), CultureInfo.InvariantCulture);

    public static CpuSample Take(Process service)
    {
        service.Refresh();
        return new CpuSample(service.TotalProcessorTime, Process.GetCurrentProcess().TotalProcessorTime, PostgresTime(), MachineTime());
    }

    public CpuSample Minus(CpuSample earlier) =>
        new(Service - earlier.Service, Client - earlier.Client, Postgres - earlier.Postgres, Machine - earlier.Machine);

    /// <summary>The busy time of all CPUs: user, nice, system, irq, softirq and steal of /proc/stat's first line.</summary>
    private static TimeSpan MachineTime()
    {
        try
        {
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            double busy = 0;
            foreach (var index in (int[])[1, 2, 3, 6, 7, 8])
                busy += index < fields.Length ? Ticks(fields[index]) : 0;
            return TimeSpan.FromSeconds(busy / TicksPerSecond);
        }
        catch (IOException)
        {
            return TimeSpan.Zero;
        }
    }

    /// <summary>
    /// The postmaster and its live children (backends, background workers), plus what its exited children used
    /// (the postmaster's cutime/cstime), so backends that close during a scenario still count.
    /// </summary>
    private static TimeSpan PostgresTime()
    {
        double ticks = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                if (!int.TryParse(Path.GetFileName(dir), out var pid))
                    continue;
                // fields after the ")" of the command name: state is field 3, ppid 4, utime 14, stime 15, cutime 16, cstime 17
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var isCluster = _postmaster == 0
                    ? stat.Contains("(postgres)", StringComparison.Ordinal)
                    : pid == _postmaster || int.Parse(fields[1], CultureInfo.InvariantCulture) == _postmaster;
                if (isCluster)
                    ticks += Ticks(fields[11]) + Ticks(fields[12]) + Ticks(fields[13]) + Ticks(fields[14]);
            }
            catch (IOException)
            {
            }
        }
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }

    private static double Ticks(string field) => double.Parse(field, CultureInfo.InvariantCulture);
}
