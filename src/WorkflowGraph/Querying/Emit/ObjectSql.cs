using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Plans;

namespace WorkflowGraph.Querying.Emit;

/// <summary>
/// Writes an <see cref="ObjectShape"/> as one SQL expression: only the selected columns are read, and navigation fields
/// become correlated subqueries in the same statement (no N+1). Two forms: <see cref="Record"/>, a row value whose columns
/// the service writes as the JSON object (<see cref="RecordJson"/>: PostgreSQL only reads and sends), which the query
/// runners use; and <see cref="Build"/>, the JSON object built by PostgreSQL, for statements whose JSON PostgreSQL
/// itself measures or aggregates (the event feed, mutation payloads, lists of SQL functions).
/// </summary>
public static class ObjectSql
{
    // json_build_object takes at most 100 arguments
    private const int PairsPerCall = 50;

    /// <param name="replaced">SQL that stands in for some of this object's own fields (not its nested objects'):
    /// a statement that knows more than the row, like the event feed's cursors.</param>
    /// <param name="phiAccess">True when the reader may see PHI: by default the transaction's (<c>app.phi_read</c>, set from
    /// the token, or the reader's scope when <see cref="StatementScope.PhiRead"/> is known); the event feed, one statement
    /// for many subscribers, passes each subscriber's.</param>
    public static Sql Build(ObjectShape shape, SqlAlias alias, StatementScope scope, IReadOnlyDictionary<string, Sql>? replaced = null,
        Sql? phiAccess = null)
    {
        var pairs = new List<Sql>();
        foreach (var field in shape.Fields)
        {
            // response keys are GraphQL names ([_A-Za-z][_0-9A-Za-z]*): safe between quotes
            var key = Sql.Raw("'" + field.ResponseKey + "'");
            var value = field switch
            {
                TypenameField => Sql.Raw("'" + shape.Entity.TypeName + "'"),
                _ when replaced is not null && replaced.TryGetValue(field.Name, out var expression) => expression,
                ColumnField column => Masked(column.Column, alias, phiAccess, scope.PhiRead),
                RelationField relation => Related(relation, alias, scope, phiAccess),
                _ => throw new ArgumentOutOfRangeException(nameof(shape), field, "unknown field"),
            };
            pairs.Add(Sql.Of($"{key}, {value}"));
        }
        if (pairs.Count <= PairsPerCall)
            return Sql.Of($"json_build_object({Sql.Join(", ", pairs)})");
        var chunks = pairs.Chunk(PairsPerCall).Select(c => Sql.Of($"jsonb_build_object({Sql.Join(", ", c)})"));
        return Sql.Of($"({Sql.Join(" || ", chunks)})::json");
    }

    /// <summary>
    /// The one place PHI is masked: every column a response shows passes here, and a classified one (<see cref="ColumnMap.Mask"/>:
    /// every JSON column, the identifier columns) is shown as it is only when <paramref name="access"/> (by default the
    /// transaction's <c>app.phi_read</c>) holds; otherwise its masking function (db/migrations/040) redacts what the
    /// organisation classified. When the statement's caller knows the reader's scope (<paramref name="phiRead"/>), only the
    /// branch for that reader is written, and it fails closed: a reader with <c>phi:read</c> gets the value only while the
    /// transaction grants it (null otherwise), a reader without gets the masking function, which masks whatever the
    /// transaction says. Each branch alone saves PostgreSQL the other's work: the masking branch holds the organisation's
    /// classification as init plans, which the executor sets up on every execution even when no row needs them.
    /// </summary>
    private static Sql Masked(ColumnMap column, SqlAlias alias, Sql? access, bool? phiRead, bool upperEnums = true)
    {
        var value = Value(column, alias, upperEnums);
        if (column.Mask is not { } mask || ReferenceEquals(mask, PhiMask.NotSensitive))
            return value;
        if (access is not null || phiRead is not { } allowed)
            return Sql.Of($"CASE WHEN {access ?? PhiMask.TransactionAccess} THEN {value} ELSE {mask.Masked(alias, value)} END");
        return allowed ? Sql.Of($"CASE WHEN {PhiMask.TransactionAccess} THEN {value} END") : mask.Masked(alias, value);
    }

    /// <summary>
    /// Values as GraphQL writes them: enums by their GraphQL names, Float as a double (numeric would keep
    /// trailing zeros), keys of rows as their global ids; the rest as PostgreSQL renders it in JSON (ISO-8601
    /// timestamps, numbers, jsonb as is).
    /// </summary>
    private static Sql Value(ColumnMap column, SqlAlias alias, bool upperEnums) => column switch
    {
        { GlobalType: not null, Expression: null, StoredGlobalId: { } stored } => alias.Column(stored),
        { GlobalType: { } type, Expression: null } => GlobalId.Expression(type, [column.ValueOf(alias)]),
        _ => column.Kind switch
        {
            ScalarKind.Enum when upperEnums => Sql.Of($"upper({column.ValueOf(alias)})"),
            ScalarKind.Float => Sql.Of($"{column.ValueOf(alias)}::float8"),
            _ => column.ValueOf(alias),
        },
    };

    /// <summary>
    /// The object as a row value: <c>ROW(…)</c> of its fields in response order (<c>__typename</c> left out: the writer knows
    /// it), a related object as the row of a scalar subquery, a related list as <c>ARRAY(SELECT ROW(…) …)</c>. Values are
    /// the same expressions as <see cref="Build"/>'s, masks included, except that enums are sent as stored, as text (the
    /// writer upper-cases them), and ids as their keys (the writer encodes them;
    /// an id column with a mask goes through <see cref="Masked"/> and arrives as the encoded text).
    /// <see cref="RecordJson"/> writes it with the same <paramref name="shape"/>.
    /// </summary>
    public static Sql Record(ObjectShape shape, SqlAlias alias, StatementScope scope)
    {
        var values = new List<Sql>();
        foreach (var field in shape.Fields)
        {
            switch (field)
            {
                case TypenameField:
                    continue;
                case ColumnField { Column.Kind: ScalarKind.Enum, Column.GlobalType: null } column:
                    // enums are text domains, whose type ids differ between databases: sent as their base type
                    values.Add(Sql.Of($"{Masked(column.Column, alias, null, scope.PhiRead, upperEnums: false)}::text"));
                    break;
                case ColumnField { Column: { GlobalType: not null, Expression: null, Mask: null } } column:
                    // the key itself: the writer encodes it as the global id (RecordJson), cheaper than reading the text
                    values.Add(column.Column.ValueOf(alias));
                    break;
                case ColumnField column:
                    values.Add(Masked(column.Column, alias, null, scope.PhiRead));
                    break;
                case RelationField relation:
                    values.Add(RelatedRecord(relation, alias, scope));
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(shape), field, "unknown field");
            }
        }
        return Sql.Of($"ROW({Sql.Join(", ", values)})");
    }

    private static Sql RelatedRecord(RelationField field, SqlAlias alias, StatementScope scope)
    {
        var relation = field.Relation;
        var target = scope.Alias();
        var join = relation.JoinCondition(alias, target);
        var from = Sql.Raw(relation.Target.Relation);
        var row = Record(field.Target, target, scope);
        if (field.List is not { } list)
            return Sql.Of($"(SELECT {row} FROM {from} {target} WHERE {join})");
        var condition = list.Where is null ? Sql.Empty : FilterSql.Condition(list.Where, target, scope);
        var keys = OrderSql.Keys(list.Order, target, scope);
        return Sql.Of($"ARRAY(SELECT {row} FROM {from} {target} WHERE {join}{condition.After(" AND ")} " +
                      $"ORDER BY {OrderSql.OrderBy(keys)} LIMIT {list.Limit})");
    }

    private static Sql Related(RelationField field, SqlAlias alias, StatementScope scope, Sql? access)
    {
        var relation = field.Relation;
        var target = scope.Alias();
        var join = relation.JoinCondition(alias, target);
        var from = Sql.Raw(relation.Target.Relation);
        if (field.List is not { } list)
            return Sql.Of($"(SELECT {Build(field.Target, target, scope, phiAccess: access)} FROM {from} {target} WHERE {join})");

        var condition = list.Where is null ? Sql.Empty : FilterSql.Condition(list.Where, target, scope);
        var keys = OrderSql.Keys(list.Order, target, scope);
        var rows = Build(field.Target, target, scope, phiAccess: access);
        return Sql.Of($"(SELECT coalesce(json_agg(x.j), '[]'::json) FROM (SELECT {rows} AS j FROM {from} {target} " +
                      $"WHERE {join}{condition.After(" AND ")} ORDER BY {OrderSql.OrderBy(keys)} LIMIT {list.Limit}) x)");
    }
}
