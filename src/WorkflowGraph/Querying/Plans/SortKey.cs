using WorkflowGraph.Querying.Model;

namespace WorkflowGraph.Querying.Plans;

/// <summary>
/// A column to sort by, on the row itself or on a row reached through to-one relations (<c>{ workflow: { name: ASC } }</c>).
/// </summary>
public sealed record SortPath(IReadOnlyList<RelationMap> Relations, ColumnMap Column)
{
    public static SortPath Of(ColumnMap column) => new([], column);

    /// <summary>
    /// The same column of the row itself, under any field (<c>id</c> and <c>rowId</c> read one key); a value through a
    /// relation is looked up anew each time it is asked for.
    /// </summary>
    public bool SameColumnAs(SortPath other) =>
        Relations.Count == 0 && other.Relations.Count == 0
        && (Column == other.Column || Column.Expression is null && other.Column.Expression is null && Column.Column == other.Column.Column);
}

/// <summary>One key of an ORDER BY: what it sorts, its type and direction. <see cref="Name"/> names it in cursors.</summary>
public sealed record SortKey(string Name, SortPath Path, ScalarKind Kind, bool Nullable, bool Descending, bool NullsFirst = false)
{
    /// <summary>The same key read the other way, for paging backwards.</summary>
    public SortKey Reversed() => this with { Descending = !Descending, NullsFirst = !NullsFirst };
}
