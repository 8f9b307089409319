using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Plans;

namespace WorkflowGraph.Querying.Emit;

/// <summary>A sort key with the SQL of its value in this statement (written once, used by ORDER BY, cursors and keysets).</summary>
public sealed record OrderedKey(SortKey Key, Sql Value)
{
    public OrderedKey Reversed() => this with { Key = Key.Reversed() };

    /// <summary>Non-null keys carry no NULLS clause so the order can match a plain index.</summary>
    public Sql OrderBy => Sql.Of(
        $"{Value}{Sql.Raw(Key.Descending ? " DESC" : " ASC")}" +
        $"{Sql.Raw(Key.Nullable ? Key.NullsFirst ? " NULLS FIRST" : " NULLS LAST" : "")}");
}
