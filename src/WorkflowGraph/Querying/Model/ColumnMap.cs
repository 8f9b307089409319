using WorkflowGraph.Querying.Fragments;

namespace WorkflowGraph.Querying.Model;

/// <summary>A scalar GraphQL field read from one column, or computed by an SQL <see cref="Expression"/> over the row.</summary>
public sealed record ColumnMap(string Field, string Column, ScalarKind Kind, bool Nullable)
{
    /// <summary>SQL over the row instead of a column; fields computed this way are selectable, not filterable or sortable.</summary>
    public Func<SqlAlias, Sql>? Expression { get; init; }

    /// <summary>
    /// Set when the column holds the key of a row of this type and GraphQL sees that row's global id (<c>id</c>, and
    /// fields that refer to another object such as <c>traceId</c>); <see cref="Kind"/> stays the key's own kind.
    /// </summary>
    public string? GlobalType { get; init; }

    /// <summary>A column holding the global id already encoded (<see cref="EntityMap.StoredGlobalId"/>); filters, orders
    /// and cursors still use <see cref="Column"/>, the key.</summary>
    public string? StoredGlobalId { get; init; }

    /// <summary>How the value is masked for a reader without <c>phi:read</c>; null: never (not patient data).</summary>
    public PhiMask? Mask { get; init; }

    /// <summary>The identifier column whose classification refuses filters and orders by this field without <c>phi:read</c>.</summary>
    public string? GuardedIdentifier { get; init; }

    /// <summary>This field's value in the row aliased <paramref name="alias"/>.</summary>
    public Sql ValueOf(SqlAlias alias) => Expression?.Invoke(alias) ?? alias.Column(Column);
}
