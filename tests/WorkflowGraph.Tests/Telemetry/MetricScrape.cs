using System.Globalization;

namespace WorkflowGraph.Tests.Telemetry;

/// <summary>
/// Reads one series from a server's <c>/metrics</c>. The service's Meter is one per process and every test server's
/// exporter sees what any of them recorded, so tests assert "at least what this test did", never an exact count.
/// </summary>
internal static class MetricScrape
{
    /// <summary>The largest value of the series of <paramref name="metric"/> whose labels include all of
    /// <paramref name="labels"/>, or -1 when there is none.</summary>
    public static async Task<double> ValueAsync(HttpClient client, string metric, params string[] labels)
    {
        var scrape = await client.GetStringAsync("/metrics");
        var values = scrape.Split('\n')
            .Where(line => line.StartsWith(metric + "{", StringComparison.Ordinal)
                           || line.StartsWith(metric + " ", StringComparison.Ordinal))
            .Where(line => labels.All(label => line.Contains(label, StringComparison.Ordinal)))
            .Select(line => double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture))
            .ToArray();
        return values.Length == 0 ? -1 : values.Max();
    }
}
