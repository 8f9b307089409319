namespace WorkflowGraph.Retention;

/// <summary>
/// One row of a retention archive: a row of <see cref="Table"/> (<c>workflow_trace</c>, <c>workflow_steps</c>,
/// <c>workflow_trace_context</c> or <c>workflow_events</c>) as PostgreSQL's <c>row_to_json</c> wrote it, every column
/// as stored (PHI included: the archive is the record).
/// </summary>
public sealed class ArchivedRow
{
    public string Table { get; set; } = "";
    public long Id { get; set; }
    public long TraceId { get; set; }
    public string OrgId { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public string Row { get; set; } = "{}";
}
