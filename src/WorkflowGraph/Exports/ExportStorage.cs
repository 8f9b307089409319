using System.Globalization;
using WorkflowGraph.Hosting;

namespace WorkflowGraph.Exports;

/// <summary>
/// Where export files live: <c>Export:Directory</c> (default: the repository's ignored <c>.data/exports</c>, or the
/// content root's), one folder per organisation; a file is written under a temporary name and renamed once complete.
/// </summary>
public sealed class ExportStorage(IConfiguration configuration, IHostEnvironment environment)
{
    public string Root { get; } = Path.GetFullPath(configuration["Export:Directory"] is { Length: > 0 } configured
        ? configured
        : Path.Combine(RepoRoot.Find(environment.ContentRootPath) ?? environment.ContentRootPath, ".data", "exports"));

    /// <summary>How long a written file is kept (<c>Export:RetentionHours</c>, default 24).</summary>
    public TimeSpan Retention { get; } = TimeSpan.FromHours(Math.Max(configuration.GetValue("Export:RetentionHours", 24.0), 0.001));

    public static string FileName(long jobId, string format) =>
        string.Create(CultureInfo.InvariantCulture, $"export-{jobId}.{(format == "parquet" ? "parquet" : "jsonl")}");

    public string OrganisationFolder(Guid orgId) => Path.Combine(Root, orgId.ToString("D"));

    public string PathOf(Guid orgId, string fileName) => Path.Combine(OrganisationFolder(orgId), fileName);

    public static string ContentType(string fileName) =>
        fileName.EndsWith(".parquet", StringComparison.Ordinal) ? "application/vnd.apache.parquet" : "application/x-ndjson";
}
