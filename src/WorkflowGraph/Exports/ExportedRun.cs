namespace WorkflowGraph.Exports;

/// <summary>
/// One run of an export: a line of a JSON Lines file, a row of a Parquet file. Its steps, context and events are JSON
/// text (arrays of objects), nested as they are in a JSON line.
/// </summary>
public sealed class ExportedRun
{
    public long Id { get; set; }
    public string WorkflowId { get; set; } = "";
    public string Channel { get; set; } = "";
    public string Status { get; set; } = "";
    public string? ExternalId { get; set; }
    public string? ConfigSnapshot { get; set; }
    public DateTime StartTime { get; set; }
    public DateTime? EndTime { get; set; }
    public long? DurationMs { get; set; }
    public string? ErrorMessage { get; set; }
    public string? CancelReason { get; set; }
    public int Attempt { get; set; }
    public string Steps { get; set; } = "[]";
    public string Context { get; set; } = "[]";
    public string Events { get; set; } = "[]";
}
