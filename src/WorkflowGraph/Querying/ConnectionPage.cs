namespace WorkflowGraph.Querying;

/// <summary>A Relay connection page as read from PostgreSQL: one JSON node per projection and a cursor per row.</summary>
public sealed class ConnectionPage
{
    public required IReadOnlyList<string> Cursors { get; init; }

    /// <summary>Rows × projections: each distinct place the node is selected (nodes, edges.node) has its own projection.</summary>
    public required IReadOnlyList<RawJson[]> Rows { get; init; }

    public required IReadOnlyDictionary<string, int> ProjectionByPath { get; init; }
    public required PageInfo PageInfo { get; init; }
    public long? TotalCount { get; init; }

    public IReadOnlyList<RawJson> Nodes(string path)
    {
        var projection = ProjectionByPath[path];
        return Rows.Select(r => r[projection]).ToList();
    }
}

public sealed record PageInfo(bool HasNextPage, bool HasPreviousPage, string? StartCursor, string? EndCursor);

/// <summary>One row of a page as an edge: its cursor, and its node as selected under <c>edges/&lt;EdgesKey&gt;</c>.</summary>
public sealed record Edge(ConnectionPage Page, int Row, string EdgesKey)
{
    public string Cursor => Page.Cursors[Row];
    public RawJson Node(string nodeKey) => Page.Rows[Row][Page.ProjectionByPath[$"edges/{EdgesKey}/{nodeKey}"]];
}
