using System.Collections;
using WorkflowGraph.Querying.Model;

namespace WorkflowGraph.Querying.Plans;

/// <summary>
/// Reads a HotChocolate-style <c>where</c> input into a <see cref="Filter"/>: <c>and</c>/<c>or</c>, one operation
/// input per column, nested objects and <c>some</c>/<c>none</c>/<c>all</c>/<c>any</c> on lists. Bad input is an
/// <c>INVALID_FILTER</c> error before any SQL exists.
/// </summary>
public static class FilterPlanner
{
    public static Filter Plan(EntityMap map, IDictionary<string, object?> where)
    {
        var parts = new List<Filter>();
        foreach (var (field, value) in where)
        {
            if (value is null)
                continue;
            switch (field)
            {
                case "and":
                    parts.Add(new AllOf(Objects(value).Select(w => Plan(map, w)).ToList()));
                    continue;
                case "or":
                    parts.Add(new AnyOf(Objects(value).Select(w => Plan(map, w)).ToList()));
                    continue;
            }
            if (map.Columns.TryGetValue(field, out var column))
            {
                parts.Add(Operations(column, (IDictionary<string, object?>)value));
                continue;
            }
            var relation = map.FindRelation(field) ?? throw QueryErrors.InvalidFilter($"{map.TypeName} cannot be filtered by {field}");
            var nested = (IDictionary<string, object?>)value;
            parts.Add(relation.Kind == RelationKind.Many
                ? ListOperations(relation, nested)
                : new RelatedRows(relation, Plan(relation.Target, nested), Negate: false, Every: false));
        }
        return new AllOf(parts);
    }

    private static Filter ListOperations(RelationMap relation, IDictionary<string, object?> where)
    {
        var parts = new List<Filter>();
        foreach (var (op, value) in where)
        {
            if (value is null)
                continue;
            parts.Add(op switch
            {
                "some" => new RelatedRows(relation, Plan(relation.Target, (IDictionary<string, object?>)value),
                    Negate: false, Every: false),
                "none" => new RelatedRows(relation, Plan(relation.Target, (IDictionary<string, object?>)value),
                    Negate: true, Every: false),
                "all" => new RelatedRows(relation, Plan(relation.Target, (IDictionary<string, object?>)value),
                    Negate: true, Every: true),
                "any" => new RelatedRows(relation, new AllOf([]), Negate: !(bool)value, Every: false),
                _ => throw QueryErrors.InvalidFilter($"unknown list operation {op}"),
            });
        }
        return new AllOf(parts);
    }

    private static Filter Operations(ColumnMap column, IDictionary<string, object?> ops)
    {
        var parts = new List<Filter>();
        foreach (var (op, value) in ops)
        {
            switch (op)
            {
                case "and":
                    parts.Add(new AllOf(Objects(value).Select(o => Operations(column, o)).ToList()));
                    continue;
                case "or":
                    parts.Add(new AnyOf(Objects(value).Select(o => Operations(column, o)).ToList()));
                    continue;
                case "eq":
                    parts.Add(new Comparison(column, ComparisonOperator.Eq, Value(value, column)));
                    continue;
                case "neq":
                    parts.Add(new Comparison(column, ComparisonOperator.Neq, Value(value, column)));
                    continue;
            }
            if (value is null)
                throw QueryErrors.InvalidFilter($"{column.Field}.{op} needs a value");
            parts.Add(op switch
            {
                "in" => Membership(column, value, negate: false),
                "nin" => Membership(column, value, negate: true),
                "gt" => new Comparison(column, ComparisonOperator.Gt, Value(value, column)),
                "gte" => new Comparison(column, ComparisonOperator.Gte, Value(value, column)),
                "lt" => new Comparison(column, ComparisonOperator.Lt, Value(value, column)),
                "lte" => new Comparison(column, ComparisonOperator.Lte, Value(value, column)),
                "ngt" => new Comparison(column, ComparisonOperator.NotGt, Value(value, column)),
                "ngte" => new Comparison(column, ComparisonOperator.NotGte, Value(value, column)),
                "nlt" => new Comparison(column, ComparisonOperator.NotLt, Value(value, column)),
                "nlte" => new Comparison(column, ComparisonOperator.NotLte, Value(value, column)),
                "contains" => Pattern(column, PatternOperator.Like, value, "%", "%"),
                "ncontains" => Pattern(column, PatternOperator.NotLike, value, "%", "%"),
                "startsWith" => Pattern(column, PatternOperator.Like, value, "", "%"),
                "nstartsWith" => Pattern(column, PatternOperator.NotLike, value, "", "%"),
                "endsWith" => Pattern(column, PatternOperator.Like, value, "%", ""),
                "nendsWith" => Pattern(column, PatternOperator.NotLike, value, "%", ""),
                "ieq" => Pattern(column, PatternOperator.ILike, value, "", ""),
                "icontains" => Pattern(column, PatternOperator.ILike, value, "%", "%"),
                _ => throw QueryErrors.InvalidFilter($"unknown operation {op} on {column.Field}"),
            });
        }
        return new AllOf(parts);
    }

    private static object? Value(object? value, ColumnMap column) => column.GlobalType is { } type
        ? GlobalId.Decode(value, type, column.Kind)
        : DbValues.ToDbValue(Checked(value), column.Kind);

    /// <summary>
    /// <c>in</c>/<c>nin</c> with null among the values: SQL's <c>x = ANY('{a,NULL}')</c> is never true for a null x
    /// and <c>NOT (...)</c> is unknown for every row, so null is matched with IS NULL instead.
    /// </summary>
    private static Membership Membership(ColumnMap column, object value, bool negate)
    {
        var items = ((IEnumerable)value).Cast<object?>().ToList();
        var values = items.Where(i => i is not null).Select(v => Value(v, column)).ToList();
        Array array = column.Kind switch
        {
            ScalarKind.String or ScalarKind.Enum => values.Cast<string?>().ToArray(),
            ScalarKind.Int => values.Select(v => (int?)v).ToArray(),
            ScalarKind.Long => values.Select(v => (long?)v).ToArray(),
            ScalarKind.Float => values.Select(v => (double?)v).ToArray(),
            ScalarKind.Uuid => values.Select(v => (Guid?)v).ToArray(),
            ScalarKind.DateTime => values.Select(v => (DateTimeOffset?)v).ToArray(),
            _ => throw QueryErrors.InvalidFilter($"{column.Field} has no list operations"),
        };
        return new Membership(column, array, items.Contains(null), negate);
    }

    /// <summary>A LIKE pattern: the value matched literally (its %, _ and \ escaped) between the wildcards.</summary>
    private static PatternMatch Pattern(ColumnMap column, PatternOperator op, object value, string before, string after)
    {
        var text = ((string)Checked(value)!)
            .Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace("%", "\\%", StringComparison.Ordinal)
            .Replace("_", "\\_", StringComparison.Ordinal);
        return new PatternMatch(column, op, before + text + after);
    }

    /// <summary>PostgreSQL text cannot hold NUL: refuse it here rather than fail the request's transaction.</summary>
    private static object? Checked(object? value) =>
        value is string text && text.Contains('\0', StringComparison.Ordinal)
            ? throw QueryErrors.InvalidFilter("filter strings cannot contain the NUL character")
            : value;

    private static IEnumerable<IDictionary<string, object?>> Objects(object? value) =>
        value is IEnumerable list ? list.Cast<object?>().Where(o => o is not null).Cast<IDictionary<string, object?>>() : [];
}
