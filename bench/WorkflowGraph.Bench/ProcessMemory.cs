using System.Globalization;
namespace WorkflowGraph.Bench;

/// <summary>
/// A process's resident memory from /proc/&lt;pid&gt;/status: the peak (VmHWM), resettable per scenario, and the
/// size now (VmRSS).
/// </summary>
public static class ProcessMemory
{
    /// <summary>
    /// Resets the peak to the current resident size (Linux: writing 5 to clear_refs), so the next read is this
    /// scenario's.
    /// </summary>
    public static void ResetPeak(int pid)
    {
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // then the peak is the process's since it started
        }
    }

    public static double? PeakMb(int pid) => StatusMb(pid, "VmHWM:");

    /// <summary>Resident memory now (VmRSS).</summary>
    public static double? ResidentMb(int pid) => StatusMb(pid, "VmRSS:");

    private static double? StatusMb(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith(field, StringComparison.Ordinal))
                    continue;
                var kilobytes = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
                return long.Parse(kilobytes, CultureInfo.InvariantCulture) / 1024.0;
            }
        }
        catch (IOException)
        {
        }
        return null;
    }
}
