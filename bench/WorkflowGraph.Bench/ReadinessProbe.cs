using System.Diagnostics;

namespace WorkflowGraph.Bench;

/// <summary>
/// Waits for a child process to answer over HTTP: a probe every 100 ms until one succeeds, failing as soon as the
/// process exits.
/// </summary>
public static class ReadinessProbe
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    /// <param name="name">What the process is, for the error messages ("the service exited with code 1").</param>
    /// <param name="timeout">How long the probes may take, counted as probes times the interval.</param>
    /// <param name="probe">One request; a success status code means ready, an <see cref="HttpRequestException"/> not yet.</param>
    public static async Task WaitAsync(string name, Process process, Uri address, TimeSpan timeout,
        Func<HttpClient, Task<HttpResponseMessage>> probe)
    {
        using var http = new HttpClient { BaseAddress = address };
        var attempts = (int)(timeout / Interval);
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"the {name} exited with code {process.ExitCode}");
            try
            {
                using var response = await probe(http);
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(Interval);
        }
        throw new TimeoutException($"the {name} did not become ready in {timeout.TotalSeconds:0} s");
    }
}
