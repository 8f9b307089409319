using WorkflowGraph.Querying.Model;

namespace WorkflowGraph.Querying.Plans;

/// <summary>
/// The order of a list: the requested keys (HotChocolate's <c>order: [..]</c>, list position is priority), else the
/// default order, closed by the entity's key so that every row has a distinct position and keyset cursors are exact.
/// </summary>
public static class OrderPlanner
{
    public static IReadOnlyList<SortKey> Plan(EntityMap map, object? order, IReadOnlyList<OrderKey>? defaults = null)
    {
        var keys = new List<SortKey>();
        if (order is System.Collections.IEnumerable items && order is not string)
        {
            foreach (var item in items.Cast<IDictionary<string, object?>>())
                foreach (var (field, value) in item)
                    if (value is not null)
                        Add(keys, KeyFor(map, field, value, field));
        }
        if (keys.Count == 0)
            foreach (var key in defaults ?? map.DefaultOrder)
            {
                var column = map.KeyColumn(key.Column);
                Add(keys, new SortKey(column.Field, SortPath.Of(column), column.Kind, column.Nullable, key.Descending));
            }
        // the key follows the direction of the last requested key, so "newest first" stays one index scan
        var descending = keys.Count > 0 && keys[^1].Descending;
        foreach (var name in map.Key)
        {
            var column = map.KeyColumn(name);
            Add(keys, new SortKey(column.Field, SortPath.Of(column), column.Kind, column.Nullable, descending));
        }
        return keys;
    }

    /// <summary>A column already sorted by is not sorted by again.</summary>
    private static void Add(List<SortKey> keys, SortKey key)
    {
        if (keys.All(k => !k.Path.SameColumnAs(key.Path)))
            keys.Add(key);
    }

    private static SortKey KeyFor(EntityMap map, string field, object value, string path)
    {
        if (map.Columns.TryGetValue(field, out var column))
        {
            if (column.Kind == ScalarKind.Json)
                throw QueryErrors.InvalidFilter($"{map.TypeName}.{field} cannot be sorted");
            return new SortKey(path, SortPath.Of(column), column.Kind, column.Nullable, IsDescending(value));
        }
        var relation = map.FindRelation(field);
        if (relation is null || relation.Kind == RelationKind.Many || value is not IDictionary<string, object?> nested
            || nested.Count(n => n.Value is not null) != 1)
            throw QueryErrors.InvalidFilter($"{map.TypeName} cannot be sorted by {field}; give one field of a single related object");
        var (innerField, innerValue) = nested.First(n => n.Value is not null);
        var inner = KeyFor(relation.Target, innerField, innerValue!, $"{path}.{innerField}");
        // a related row may be missing, so the value may be null whatever the column says
        return inner with { Path = inner.Path with { Relations = [relation, .. inner.Path.Relations] }, Nullable = true };
    }

    private static bool IsDescending(object value) => value switch
    {
        string s => s == "DESC",
        _ => throw QueryErrors.InvalidFilter("sort direction must be ASC or DESC"),
    };
}
