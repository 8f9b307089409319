using System.Text.Json;
using WorkflowGraph.Bench.Scenarios;
using WorkflowGraph.Transport.Persisted;

namespace WorkflowGraph.Bench;

/// <summary>
/// The trusted documents manifest the benchmark's service runs with: what a front-end build publishes (id → document,
/// graphql-codegen's persisted-documents.json shape), here the dashboard's query.
/// </summary>
public static class TrustedManifest
{
    public static string DashboardId { get; } = "sha256:" + TrustedDocuments.Sha256(DashboardScenario.Query);

    /// <summary>Writes the manifest to a temporary file; returns its path.</summary>
    public static string Write()
    {
        var path = Path.Combine(Path.GetTempPath(), $"workflowgraph-bench-documents-{Environment.ProcessId}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(new Dictionary<string, string> { [DashboardId] = DashboardScenario.Query }));
        return path;
    }
}
