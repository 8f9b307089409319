using System.Collections;
using NpgsqlTypes;
using WorkflowGraph.Querying.Model;

namespace WorkflowGraph.Querying;

/// <summary>
/// Turns a HotChocolate-style <c>where</c> input into a SQL condition over one row alias. Navigation filters
/// become correlated EXISTS subqueries, so a filter never multiplies rows.
/// </summary>
public static class FilterCompiler
{
    public static string Compile(EntityMap map, string alias, IDictionary<string, object?> where, SqlBuilder sql)
    {
        var parts = new List<string>();
        foreach (var (field, value) in where)
        {
            if (value is null)
                continue;
            switch (field)
            {
                case "and":
                    parts.Add(All(Objects(value).Select(w => Compile(map, alias, w, sql))));
                    continue;
                case "or":
                    parts.Add(AnyOf(Objects(value).Select(w => Compile(map, alias, w, sql))));
                    continue;
            }
            if (map.Columns.TryGetValue(field, out var column))
            {
                parts.Add(Operations(column.Sql(alias), column, (IDictionary<string, object?>)value, sql));
                continue;
            }
            var relation = map.FindRelation(field) ?? throw QueryErrors.InvalidFilter($"{map.TypeName} cannot be filtered by {field}");
            parts.Add(relation.Kind == RelationKind.Many
                ? ListCondition(relation, alias, (IDictionary<string, object?>)value, sql)
                : Exists(relation, alias, (IDictionary<string, object?>)value, sql, negate: false));
        }
        return All(parts);
    }

    /// <summary>The condition joining a target row aliased <paramref name="targetAlias"/> to its source row.</summary>
    public static string JoinCondition(RelationMap relation, string sourceAlias, string targetAlias) =>
        string.Join(" AND ", relation.Join.Select(j => $"{targetAlias}.{j.Target} = {sourceAlias}.{j.Local}"));

    private static string Exists(RelationMap relation, string alias, IDictionary<string, object?> where, SqlBuilder sql, bool negate,
        Func<string, string>? wrap = null)
    {
        var target = sql.Alias();
        var condition = Compile(relation.Target, target, where, sql);
        condition = wrap?.Invoke(condition) ?? condition;
        var exists = $"EXISTS (SELECT 1 FROM {relation.Target.Relation} {target} WHERE {JoinCondition(relation, alias, target)}" +
                     (condition == "TRUE" ? ")" : $" AND {condition})");
        return negate ? $"NOT {exists}" : exists;
    }

    private static string ListCondition(RelationMap relation, string alias, IDictionary<string, object?> where, SqlBuilder sql)
    {
        var parts = new List<string>();
        foreach (var (op, value) in where)
        {
            if (value is null)
                continue;
            parts.Add(op switch
            {
                "some" => Exists(relation, alias, (IDictionary<string, object?>)value, sql, negate: false),
                "none" => Exists(relation, alias, (IDictionary<string, object?>)value, sql, negate: true),
                // every element matches: no element for which the condition is not true (NULL counts as not true)
                "all" => Exists(relation, alias, (IDictionary<string, object?>)value, sql, negate: true, c => $"({c}) IS NOT TRUE"),
                "any" => Exists(relation, alias, new Dictionary<string, object?>(), sql, negate: !(bool)value),
                _ => throw QueryErrors.InvalidFilter($"unknown list operation {op}"),
            });
        }
        return All(parts);
    }

    private static string Operations(string expression, ColumnMap column, IDictionary<string, object?> ops, SqlBuilder sql)
    {
        var parts = new List<string>();
        foreach (var (op, value) in ops)
        {
            switch (op)
            {
                case "and":
                    parts.Add(All(Objects(value).Select(o => Operations(expression, column, o, sql))));
                    continue;
                case "or":
                    parts.Add(AnyOf(Objects(value).Select(o => Operations(expression, column, o, sql))));
                    continue;
                case "eq":
                    parts.Add(value is null ? $"{expression} IS NULL" : $"{expression} = {Param(value, column, sql)}");
                    continue;
                case "neq":
                    parts.Add(value is null ? $"{expression} IS NOT NULL" : $"{expression} <> {Param(value, column, sql)}");
                    continue;
            }
            if (value is null)
                throw QueryErrors.InvalidFilter($"{column.Field}.{op} needs a value");
            parts.Add(op switch
            {
                "in" => In(expression, value, column, sql, negate: false),
                "nin" => In(expression, value, column, sql, negate: true),
                "gt" => $"{expression} > {Param(value, column, sql)}",
                "gte" => $"{expression} >= {Param(value, column, sql)}",
                "lt" => $"{expression} < {Param(value, column, sql)}",
                "lte" => $"{expression} <= {Param(value, column, sql)}",
                "ngt" => $"NOT ({expression} > {Param(value, column, sql)})",
                "ngte" => $"NOT ({expression} >= {Param(value, column, sql)})",
                "nlt" => $"NOT ({expression} < {Param(value, column, sql)})",
                "nlte" => $"NOT ({expression} <= {Param(value, column, sql)})",
                "contains" => $"{expression} LIKE {Like(value, "%", "%", sql)}",
                "ncontains" => $"{expression} NOT LIKE {Like(value, "%", "%", sql)}",
                "startsWith" => $"{expression} LIKE {Like(value, "", "%", sql)}",
                "nstartsWith" => $"{expression} NOT LIKE {Like(value, "", "%", sql)}",
                "endsWith" => $"{expression} LIKE {Like(value, "%", "", sql)}",
                "nendsWith" => $"{expression} NOT LIKE {Like(value, "%", "", sql)}",
                "ieq" => $"{expression} ILIKE {Like(value, "", "", sql)}",
                "icontains" => $"{expression} ILIKE {Like(value, "%", "%", sql)}",
                _ => throw QueryErrors.InvalidFilter($"unknown operation {op} on {column.Field}"),
            });
        }
        return All(parts);
    }

    private static string Param(object value, ColumnMap column, SqlBuilder sql) =>
        sql.Add(SqlBuilder.ToDbValue(Checked(value), column.Kind), SqlBuilder.TypeOf(column.Kind));

    /// <summary>
    /// <c>in</c>/<c>nin</c> with null among the values: SQL's <c>x = ANY('{a,NULL}')</c> is never true for a null x
    /// and <c>NOT (...)</c> is unknown for every row, so null is matched with IS NULL instead.
    /// </summary>
    private static string In(string expression, object value, ColumnMap column, SqlBuilder sql, bool negate)
    {
        var items = ((IEnumerable)value).Cast<object?>().ToList();
        var withNull = items.Contains(null);
        var list = $"{expression} = ANY({ArrayParam(items.Where(i => i is not null).ToList(), column, sql)})";
        return (negate, withNull) switch
        {
            (false, false) => list,
            (false, true) => $"({list} OR {expression} IS NULL)",
            (true, false) => $"NOT ({list})",
            (true, true) => $"({expression} IS NOT NULL AND NOT ({list}))",
        };
    }

    private static string ArrayParam(IEnumerable<object?> values, ColumnMap column, SqlBuilder sql)
    {
        var items = values.Select(v => SqlBuilder.ToDbValue(Checked(v), column.Kind)).ToList();
        Array array = column.Kind switch
        {
            ScalarKind.String or ScalarKind.Enum => items.Cast<string?>().ToArray(),
            ScalarKind.Int => items.Select(v => (int?)v).ToArray(),
            ScalarKind.Long => items.Select(v => (long?)v).ToArray(),
            ScalarKind.Float => items.Select(v => (double?)v).ToArray(),
            ScalarKind.Uuid => items.Select(v => (Guid?)v).ToArray(),
            ScalarKind.DateTime => items.Select(v => (DateTimeOffset?)v).ToArray(),
            _ => throw QueryErrors.InvalidFilter($"{column.Field} has no list operations"),
        };
        return sql.Add(array, NpgsqlDbType.Array | SqlBuilder.TypeOf(column.Kind));
    }

    /// <summary>A LIKE pattern parameter: the value matched literally (its %, _ and \ escaped) between the wildcards.</summary>
    private static string Like(object value, string before, string after, SqlBuilder sql)
    {
        var text = ((string)Checked(value)!).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
        return sql.Add(before + text + after, NpgsqlDbType.Text);
    }

    /// <summary>PostgreSQL text cannot hold NUL: refuse it here rather than fail the request's transaction.</summary>
    private static object? Checked(object? value) =>
        value is string text && text.Contains('\0', StringComparison.Ordinal) ? throw QueryErrors.InvalidFilter("filter strings cannot contain the NUL character") : value;

    private static IEnumerable<IDictionary<string, object?>> Objects(object? value) =>
        value is IEnumerable list ? list.Cast<object?>().Where(o => o is not null).Cast<IDictionary<string, object?>>() : [];

    private static string All(IEnumerable<string> parts)
    {
        var list = parts.Where(p => p != "TRUE").ToList();
        return list.Count switch { 0 => "TRUE", 1 => list[0], _ => "(" + string.Join(" AND ", list) + ")" };
    }

    /// <summary>An empty <c>or</c> constrains nothing, like an empty <c>and</c>.</summary>
    private static string AnyOf(IEnumerable<string> parts)
    {
        var list = parts.ToList();
        if (list.Count == 0 || list.Contains("TRUE"))
            return "TRUE";
        return list.Count == 1 ? list[0] : "(" + string.Join(" OR ", list) + ")";
    }
}
