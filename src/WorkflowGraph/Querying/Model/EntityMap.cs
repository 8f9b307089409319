using WorkflowGraph.Querying.Fragments;

namespace WorkflowGraph.Querying.Model;

/// <summary>
/// A GraphQL object type read from one table, view or set-returning function. Scalar fields map to columns by
/// name (camelCase field, snake_case column); the SDL says which fields exist, and the engine checks every one of
/// them against this map at startup.
/// </summary>
public sealed class EntityMap
{
    public required string TypeName { get; init; }

    /// <summary>The table or view rows come from.</summary>
    public required string Relation { get; init; }

    /// <summary>Columns that identify a row: they close every sort order so keyset paging is exact.</summary>
    public required IReadOnlyList<string> Key { get; init; }

    /// <summary>
    /// The columns a global id is made of, when they are not <see cref="Key"/> (a run's context entry is identified by
    /// its run and key). A single column makes the type a <c>Node</c>, which <c>node(id:)</c> can fetch.
    /// </summary>
    public IReadOnlyList<string>? IdentifiedBy { get; init; }

    public IReadOnlyList<string> IdColumns => IdentifiedBy ?? Key;

    /// <summary>Fields of type ID that refer to another type's rows without a navigation field of their own.</summary>
    public IReadOnlyDictionary<string, string> References { get; init; } = new Dictionary<string, string>();

    /// <summary>The <c>id</c> field when it is a single-column global id (the type implements <c>Node</c>).</summary>
    public ColumnMap? IdColumn =>
        Columns.TryGetValue("id", out var id) && id.GlobalType == TypeName && id.Expression is null ? id : null;

    /// <summary>The order of an unsorted list; the key is appended where missing.</summary>
    public IReadOnlyList<OrderKey> DefaultOrder { get; init; } = [];

    /// <summary>
    /// A column that holds the row's global id as the API writes it (a stored generated column, db/migrations/055):
    /// the <c>id</c> field reads it instead of encoding the key in every statement.
    /// </summary>
    public string? StoredGlobalId { get; init; }

    /// <summary>Fields computed by SQL over the row instead of read from a column.</summary>
    public IReadOnlyDictionary<string, Func<SqlAlias, Sql>> Computed { get; init; } = new Dictionary<string, Func<SqlAlias, Sql>>();

    public IReadOnlyList<RelationMap> Relations { get; init; } = [];

    /// <summary>
    /// The column holding the id of the run a row belongs to (a run's own id, a step's or event's run), when it has one:
    /// the PHI access audit records which runs a response showed (<c>Querying/Emit/AuditSql</c>).
    /// </summary>
    public string? RunColumn { get; init; }

    /// <summary>
    /// How each JSON field's value is classified (<see cref="PhiMask"/>); a JSON field missing here is
    /// <see cref="PhiMask.Unclassified"/>: redacted whole without <c>phi:read</c>.
    /// </summary>
    public IReadOnlyDictionary<string, PhiMask> JsonMasks { get; init; } = new Dictionary<string, PhiMask>();

    /// <summary>Filled from the SDL when the schema is built.</summary>
    public Dictionary<string, ColumnMap> Columns { get; } = new(StringComparer.Ordinal);

    public RelationMap? FindRelation(string field) => Relations.FirstOrDefault(r => r.Field == field);

    /// <summary>The SQL type of a key column, for typed cursor parameters.</summary>
    public ColumnMap KeyColumn(string column) =>
        Columns.Values.FirstOrDefault(c => c.Column == column && c.Expression is null)
        ?? throw new InvalidOperationException($"{TypeName}: key column {column} is not exposed as a field");

    public static string ColumnNameFor(string field) =>
        string.Concat(field.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));
}
