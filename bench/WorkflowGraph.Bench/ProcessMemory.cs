using System.Globalization;
namespace WorkflowGraph.Bench;

/// <summary>Peak resident memory of a process (VmHWM in /proc/&lt;pid&gt;/status), resettable per scenario.</summary>
public static class ProcessMemory
{
    /// <summary>Resets the peak to the current resident size (Linux: writing 5 to clear_refs), so the next read is this scenario's.</summary>
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

    public static double? PeakMb(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (IOException)
        {
        }
        return null;
    }
}
