using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Selection;
namespace WorkflowGraph.Querying;

/// <summary>
/// Turns a selection into one SQL expression that builds the JSON object GraphQL returns: only the selected
/// columns are read, and navigation fields become correlated subqueries in the same statement (no N+1).
/// </summary>
public sealed class Projection(QueryLimits limits)
{
    // json_build_object takes at most 100 arguments
    private const int PairsPerCall = 50;

    /// <param name="replaced">SQL that stands in for some of this object's own fields (not its nested objects'):
    /// a statement that knows more than the row, like the event feed's cursors.</param>
    public string Object(EntityMap map, string alias, IEnumerable<FieldSelection> fields, SqlBuilder sql,
        IReadOnlyDictionary<string, string>? replaced = null)
    {
        var pairs = new List<string>();
        foreach (var field in fields)
        {
            var key = "'" + field.ResponseKey + "'";
            if (field.Name == FieldSelection.Typename)
                pairs.Add($"{key}, '{map.TypeName}'");
            else if (replaced is not null && replaced.TryGetValue(field.Name, out var expression))
                pairs.Add($"{key}, {expression}");
            else if (map.Columns.TryGetValue(field.Name, out var column))
                pairs.Add($"{key}, {Column(column, alias)}");
            else if (map.FindRelation(field.Name) is { } relation)
                pairs.Add($"{key}, {Relation(relation, alias, field, sql)}");
            else
                throw new InvalidOperationException($"{map.TypeName}.{field.Name} has no mapping");
        }
        if (pairs.Count <= PairsPerCall)
            return $"json_build_object({string.Join(", ", pairs)})";
        var chunks = pairs.Chunk(PairsPerCall).Select(c => $"jsonb_build_object({string.Join(", ", c)})");
        return "(" + string.Join(" || ", chunks) + ")::json";
    }

    /// <summary>
    /// Values as GraphQL writes them: enums by their GraphQL names, Float as a double (numeric would keep
    /// trailing zeros); the rest as PostgreSQL renders it in JSON (ISO-8601 timestamps, numbers, jsonb as is).
    /// </summary>
    public static string Column(ColumnMap column, string alias) => column.Kind switch
    {
        ScalarKind.Enum => $"upper({column.Sql(alias)})",
        ScalarKind.Float => $"{column.Sql(alias)}::float8",
        _ => column.Sql(alias),
    };

    private string Relation(RelationMap relation, string alias, FieldSelection field, SqlBuilder sql)
    {
        var target = sql.Alias();
        var join = FilterCompiler.JoinCondition(relation, alias, target);
        if (relation.Kind != RelationKind.Many)
            return $"(SELECT {Object(relation.Target, target, field.Children, sql)} FROM {relation.Target.Relation} {target} WHERE {join})";

        var condition = join;
        if (field.Argument("where") is IDictionary<string, object?> where)
        {
            var filter = FilterCompiler.Compile(relation.Target, target, where, sql);
            if (filter != "TRUE")
                condition += " AND " + filter;
        }
        var keys = SortOrder.Build(relation.Target, target, field.Argument("order"), sql, relation.Order);
        var limit = limits.NestedListSize(field.Argument("first") as int?);
        return "(SELECT coalesce(json_agg(x.j), '[]'::json) FROM (" +
               $"SELECT {Object(relation.Target, target, field.Children, sql)} AS j FROM {relation.Target.Relation} {target} " +
               $"WHERE {condition} ORDER BY {SortOrder.OrderByClause(keys)} LIMIT {limit}) x)";
    }
}
