using System.Text;
using System.Text.Json;
using WorkflowGraph.Querying.Model;

namespace WorkflowGraph.Querying;

/// <summary>One key of an ORDER BY: a SQL expression over the row, its type and direction.</summary>
public sealed record SortKey(string Name, string Sql, ScalarKind Kind, bool Nullable, bool Descending, bool NullsFirst = false)
{
    public SortKey Reversed() => this with { Descending = !Descending, NullsFirst = !NullsFirst };

    /// <summary>Non-null keys carry no NULLS clause so the order can match a plain index.</summary>
    public string OrderBy => Sql + (Descending ? " DESC" : " ASC") + (Nullable ? NullsFirst ? " NULLS FIRST" : " NULLS LAST" : "");
}

/// <summary>
/// The order of a list: the requested keys (HotChocolate's <c>order: [..]</c>, list position is priority), closed by
/// the entity's key so that every row has a distinct position and keyset cursors are exact.
/// </summary>
public static class SortOrder
{
    public static List<SortKey> Build(EntityMap map, string alias, object? order, SqlBuilder sql, IReadOnlyList<OrderKey>? defaults = null)
    {
        var keys = new List<SortKey>();
        if (order is System.Collections.IEnumerable items && order is not string)
        {
            foreach (var item in items.Cast<IDictionary<string, object?>>())
                foreach (var (field, value) in item)
                    if (value is not null)
                        Add(keys, KeyFor(map, alias, field, value, field, sql));
        }
        if (keys.Count == 0)
            foreach (var key in defaults ?? map.DefaultOrder)
            {
                var column = map.KeyColumn(key.Column);
                Add(keys, new SortKey(column.Field, column.Sql(alias), column.Kind, column.Nullable, key.Descending));
            }
        // the key follows the direction of the last requested key, so "newest first" stays one index scan
        var descending = keys.Count > 0 && keys[^1].Descending;
        foreach (var name in map.Key)
        {
            var column = map.KeyColumn(name);
            Add(keys, new SortKey(column.Field, column.Sql(alias), column.Kind, column.Nullable, descending));
        }
        return keys;
    }

    private static void Add(List<SortKey> keys, SortKey key)
    {
        if (keys.All(k => k.Sql != key.Sql))
            keys.Add(key);
    }

    private static SortKey KeyFor(EntityMap map, string alias, string field, object value, string path, SqlBuilder sql)
    {
        if (map.Columns.TryGetValue(field, out var column))
        {
            if (column.Kind == ScalarKind.Json)
                throw QueryErrors.InvalidFilter($"{map.TypeName}.{field} cannot be sorted");
            return new SortKey(path, column.Sql(alias), column.Kind, column.Nullable, IsDescending(value));
        }
        var relation = map.FindRelation(field);
        if (relation is null || relation.Kind == RelationKind.Many || value is not IDictionary<string, object?> nested || nested.Count(n => n.Value is not null) != 1)
            throw QueryErrors.InvalidFilter($"{map.TypeName} cannot be sorted by {field}; give one field of a single related object");
        var (innerField, innerValue) = nested.First(n => n.Value is not null);
        var target = sql.Alias();
        var inner = KeyFor(relation.Target, target, innerField, innerValue!, $"{path}.{innerField}", sql);
        var expression = $"(SELECT {inner.Sql} FROM {relation.Target.Relation} {target} WHERE {FilterCompiler.JoinCondition(relation, alias, target)})";
        return inner with { Sql = expression, Nullable = true };
    }

    private static bool IsDescending(object value) => value switch
    {
        string s => s == "DESC",
        _ => throw QueryErrors.InvalidFilter("sort direction must be ASC or DESC"),
    };

    public static string OrderByClause(IEnumerable<SortKey> keys) => string.Join(", ", keys.Select(k => k.OrderBy));

    /// <summary>JSON array of a row's key values, read back into a cursor.</summary>
    public static string CursorValuesSql(IEnumerable<SortKey> keys) => "json_build_array(" + string.Join(", ", keys.Select(k => k.Sql)) + ")";

    /// <summary>Rows strictly after the row whose key values are <paramref name="values"/>, in this order.</summary>
    public static string After(IReadOnlyList<SortKey> keys, IReadOnlyList<object?> values, SqlBuilder sql)
    {
        // all keys non-null and one direction: a row comparison, which an index range scan can serve
        if (keys.All(k => !k.Nullable) && keys.All(k => k.Descending == keys[0].Descending) && values.All(v => v is not null))
        {
            var parameters = keys.Select((k, i) => sql.Add(values[i], SqlBuilder.TypeOf(k.Kind)));
            return $"({string.Join(", ", keys.Select(k => k.Sql))}) {(keys[0].Descending ? "<" : ">")} ({string.Join(", ", parameters)})";
        }
        var branches = new List<string>();
        for (var i = 0; i < keys.Count; i++)
        {
            var after = KeyAfter(keys[i], values[i], sql);
            if (after is null)
                continue;
            var equal = Enumerable.Range(0, i).Select(j => values[j] is null
                ? $"{keys[j].Sql} IS NULL"
                : $"{keys[j].Sql} = {sql.Add(values[j], SqlBuilder.TypeOf(keys[j].Kind))}");
            branches.Add("(" + string.Join(" AND ", equal.Append(after)) + ")");
        }
        return branches.Count == 0 ? "FALSE" : "(" + string.Join(" OR ", branches) + ")";
    }

    private static string? KeyAfter(SortKey key, object? value, SqlBuilder sql)
    {
        if (value is null)
            return key.NullsFirst ? $"{key.Sql} IS NOT NULL" : null;
        var comparison = $"{key.Sql} {(key.Descending ? "<" : ">")} {sql.Add(value, SqlBuilder.TypeOf(key.Kind))}";
        return key.Nullable && !key.NullsFirst ? $"({comparison} OR {key.Sql} IS NULL)" : comparison;
    }
}

/// <summary>
/// Opaque keyset cursors: base64url of the order's signature and the row's key values. A cursor is only valid
/// for the order it was made in.
/// </summary>
public static class Cursor
{
    public static string Signature(IEnumerable<SortKey> keys) =>
        string.Join(",", keys.Select(k => k.Name + (k.Descending ? ":DESC" : ":ASC")));

    public static string Encode(string signature, string valuesJson) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{{\"o\":{JsonSerializer.Serialize(signature)},\"v\":{valuesJson}}}"))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static IReadOnlyList<object?> Decode(string cursor, string signature, IReadOnlyList<SortKey> keys)
    {
        try
        {
            var base64 = cursor.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');
            using var document = JsonDocument.Parse(Convert.FromBase64String(base64));
            var root = document.RootElement;
            if (root.GetProperty("o").GetString() != signature)
                throw QueryErrors.InvalidCursor("the cursor belongs to another order; page with the order it was made in");
            var values = root.GetProperty("v");
            if (values.GetArrayLength() != keys.Count)
                throw QueryErrors.InvalidCursor("the cursor is malformed");
            return values.EnumerateArray().Select((v, i) => Read(v, keys[i].Kind)).ToList();
        }
        catch (Exception e) when (e is FormatException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw QueryErrors.InvalidCursor("the cursor is malformed");
        }
    }

    private static object? Read(JsonElement value, ScalarKind kind) => value.ValueKind == JsonValueKind.Null ? null : kind switch
    {
        ScalarKind.Int => value.GetInt32(),
        ScalarKind.Long => value.GetInt64(),
        ScalarKind.Float => value.GetDouble(),
        ScalarKind.Boolean => value.GetBoolean(),
        ScalarKind.Uuid => Guid.Parse(value.GetString()!),
        ScalarKind.DateTime => DateTimeOffset.Parse(value.GetString()!, System.Globalization.CultureInfo.InvariantCulture).ToUniversalTime(),
        _ => value.GetString(),
    };
}
