using WorkflowGraph.Querying.Fragments;

namespace WorkflowGraph.Querying.Model;

/// <summary>
/// How a column's value is masked for a reader without the <c>phi:read</c> scope: the SQL function of
/// db/migrations/040 (<see cref="Masked"/>, given the row and the raw value), which takes the organisation's
/// classification as an uncorrelated subquery: PostgreSQL reads it once per statement (an init plan), not per row.
/// <c>Querying/Emit/ObjectSql</c> applies it wherever the column is written into response JSON.
/// </summary>
public sealed record PhiMask(Func<SqlAlias, Sql, Sql> Masked)
{
    /// <summary>Admin metadata (validation rules, bindings) that holds no patient data: never masked.</summary>
    public static PhiMask NotSensitive { get; } = new((_, value) => value);

    /// <summary>A JSON column no entity map classified: redacted whole (the safe default for a column added later).</summary>
    public static PhiMask Unclassified { get; } = new((_, value) => Sql.Of($"phi_mask_unclassified({value})"));

    /// <summary>A configuration or a run's configuration snapshot: the organisation's CONFIG_KEY rules.</summary>
    public static PhiMask Config { get; } =
        new((_, value) => Sql.Of($"phi_mask_config({value}, (SELECT phi_classified_keys('config_key')))"));

    /// <summary>An event's data: state keys shown, identifiers by their column rules, anything else redacted.</summary>
    public static PhiMask EventData { get; } = new((_, value) => Sql.Of(
        $"phi_mask_event({value}, (SELECT phi_column_classified('external_id')), (SELECT phi_column_classified('error_message')))"));

    /// <summary>A step's input or output: the node's field sensitivities (PHI nodes mask their unclassified fields).</summary>
    public static PhiMask NodeData(string nodeColumn, string direction) =>
        new((row, value) => Sql.Of(
            $"phi_mask_node_data({row.Column(nodeColumn)}, {Sql.Raw("'" + direction + "'")}, {value}, (SELECT phi_sensitive_nodes()))"));

    /// <summary>A context value: the organisation's CONTEXT_KEY rule for the row's key.</summary>
    public static PhiMask ContextValue(string keyColumn) =>
        new((row, value) => Sql.Of($"phi_mask_context({row.Column(keyColumn)}, {value}, (SELECT phi_classified_keys('context_key')))"));

    /// <summary>
    /// The text columns that may carry an identifier, masked (and guarded in filters and orders) by the organisation's
    /// COLUMN rule of the same name wherever an entity map exposes them.
    /// </summary>
    public static IReadOnlySet<string> IdentifierColumns { get; } =
        new HashSet<string>(StringComparer.Ordinal) { "external_id", "error_message" };

    public static PhiMask Identifier(string column) =>
        new((_, value) => Sql.Of($"phi_mask_text({value}, (SELECT phi_column_classified({Sql.Raw("'" + column + "'")})))"));

    /// <summary>A condition that refuses (SQLSTATE WFP01, FORBIDDEN) a filter or order by a classified identifier column.</summary>
    public static Sql Guard(string column) => Sql.Of($"(SELECT phi_guard_column({Sql.Raw("'" + column + "'")}))");

    /// <summary>The reader may see PHI: the transaction's <c>app.phi_read</c> (set from the token's scope).</summary>
    public static Sql TransactionAccess { get; } = Sql.Raw("phi_read_allowed()");
}
