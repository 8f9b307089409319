namespace WorkflowGraph.Querying.Model;

/// <summary>What a GraphQL scalar becomes in SQL: the parameter type for filters and the read conversion.</summary>
public enum ScalarKind { String, Int, Long, Float, Boolean, Uuid, DateTime, Json, Enum }

public enum RelationKind
{
    /// <summary>Exactly one target row (non-null field).</summary>
    One,
    /// <summary>Zero or one target row (nullable field).</summary>
    Optional,
    /// <summary>A list of target rows.</summary>
    Many,
}

/// <summary>A scalar GraphQL field read from one column, or computed by an SQL <see cref="Expression"/> over the row.</summary>
public sealed record ColumnMap(string Field, string Column, ScalarKind Kind, bool Nullable)
{
    /// <summary>SQL with <c>{0}</c> for the row alias; fields computed this way are selectable, not filterable or sortable.</summary>
    public string? Expression { get; init; }

    /// <summary>SQL for this column of the row aliased <paramref name="alias"/>.</summary>
    public string Sql(string alias) => Expression is null ? $"{alias}.{Column}" : string.Format(System.Globalization.CultureInfo.InvariantCulture, Expression, alias);
}

/// <summary>
/// A navigation field: the target rows whose <c>Target</c> columns equal this row's <c>Local</c> columns. A list
/// relation may order its rows its own way (a run's steps by step number) instead of the target's default.
/// </summary>
public sealed record RelationMap(string Field, string TargetType, RelationKind Kind, IReadOnlyList<(string Local, string Target)> Join,
    IReadOnlyList<OrderKey>? Order = null)
{
    public EntityMap Target { get; internal set; } = null!;
}

/// <summary>One sort key of an entity's default order.</summary>
public sealed record OrderKey(string Column, bool Descending);

/// <summary>
/// A GraphQL object type read from one table, view or set-returning function. Scalar fields map to columns by
/// name (camelCase field, snake_case column) unless <see cref="ColumnOverrides"/> says otherwise; the SDL says
/// which fields exist, and the engine checks every one of them against this map at startup.
/// </summary>
public sealed class EntityMap
{
    public required string TypeName { get; init; }

    /// <summary>The table or view rows come from.</summary>
    public required string Relation { get; init; }

    /// <summary>Columns that identify a row: they close every sort order so keyset paging is exact.</summary>
    public required IReadOnlyList<string> Key { get; init; }

    /// <summary>The order of an unsorted list; the key is appended where missing.</summary>
    public IReadOnlyList<OrderKey> DefaultOrder { get; init; } = [];

    public IReadOnlyDictionary<string, string> ColumnOverrides { get; init; } = new Dictionary<string, string>();

    /// <summary>Fields computed by an SQL expression over the row (<c>{0}</c> is its alias) instead of read from a column.</summary>
    public IReadOnlyDictionary<string, string> Computed { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<RelationMap> Relations { get; init; } = [];

    /// <summary>Filled from the SDL when the schema is built.</summary>
    public Dictionary<string, ColumnMap> Columns { get; } = new(StringComparer.Ordinal);

    public RelationMap? FindRelation(string field) => Relations.FirstOrDefault(r => r.Field == field);

    /// <summary>The SQL type of a key column, for typed cursor parameters.</summary>
    public ColumnMap KeyColumn(string column) =>
        Columns.Values.FirstOrDefault(c => c.Column == column)
        ?? throw new InvalidOperationException($"{TypeName}: key column {column} is not exposed as a field");

    public static string ColumnNameFor(string field) =>
        string.Concat(field.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));
}
