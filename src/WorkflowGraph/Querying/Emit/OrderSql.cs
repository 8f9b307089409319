using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Plans;

namespace WorkflowGraph.Querying.Emit;

/// <summary>Writes an order: its keys' values, the ORDER BY, the cursor values of a row and the keyset condition.</summary>
public static class OrderSql
{
    public static IReadOnlyList<OrderedKey> Keys(IReadOnlyList<SortKey> keys, SqlAlias alias, StatementScope scope) =>
        keys.Select(k => new OrderedKey(k, ValueOf(k.Path, 0, alias, scope))).ToList();

    /// <summary>A column of the row, or of a row reached through to-one relations (one scalar subquery per step).</summary>
    private static Sql ValueOf(SortPath path, int step, SqlAlias alias, StatementScope scope)
    {
        if (step == path.Relations.Count)
            return path.Column.GuardedIdentifier is { } identifier
                ? Sql.Of($"CASE WHEN {Model.PhiMask.Guard(identifier)} THEN {path.Column.ValueOf(alias)} END")
                : path.Column.ValueOf(alias);
        var relation = path.Relations[step];
        var target = scope.Alias();
        var inner = ValueOf(path, step + 1, target, scope);
        return Sql.Of($"(SELECT {inner} FROM {Sql.Raw(relation.Target.Relation)} {target} WHERE {relation.JoinCondition(alias, target)})");
    }

    public static Sql OrderBy(IEnumerable<OrderedKey> keys) => Sql.Join(", ", keys.Select(k => k.OrderBy));

    /// <summary>JSON array of a row's key values, read back into a cursor.</summary>
    public static Sql CursorValues(IEnumerable<OrderedKey> keys) =>
        Sql.Of($"json_build_array({Sql.Join(", ", keys.Select(k => k.Value))})");

    /// <summary>Rows strictly after the row whose key values are <paramref name="values"/>, in this order.</summary>
    public static Sql After(IReadOnlyList<OrderedKey> keys, IReadOnlyList<object?> values, StatementScope scope)
    {
        // all keys non-null and one direction: a row comparison, which an index range scan can serve
        if (keys.All(k => !k.Key.Nullable) && keys.All(k => k.Key.Descending == keys[0].Key.Descending)
            && values.All(v => v is not null))
        {
            var parameters = keys.Select((k, i) => Parameter(k, values[i], scope)).ToList();
            return Sql.Of(
                $"({Sql.Join(", ", keys.Select(k => k.Value))}) " +
                $"{Sql.Raw(keys[0].Key.Descending ? "<" : ">")} ({Sql.Join(", ", parameters)})");
        }
        var branches = new List<Sql>();
        for (var i = 0; i < keys.Count; i++)
        {
            var after = KeyAfter(keys[i], values[i], scope);
            if (after.IsEmpty)
                continue;
            var equal = Enumerable.Range(0, i).Select(j => values[j] is null
                ? Sql.Of($"{keys[j].Value} IS NULL")
                : Sql.Of($"{keys[j].Value} = {Parameter(keys[j], values[j], scope)}"));
            branches.Add(Sql.Of($"({Sql.Join(" AND ", equal.Append(after))})"));
        }
        return branches.Count == 0 ? Sql.Raw("FALSE") : Sql.Of($"({Sql.Join(" OR ", branches)})");
    }

    /// <summary>Rows after <paramref name="value"/> on this one key; nothing when no row can be (NULLS LAST and a null value).</summary>
    private static Sql KeyAfter(OrderedKey key, object? value, StatementScope scope)
    {
        var (sort, sql) = (key.Key, key.Value);
        if (value is null)
            return sort.NullsFirst ? Sql.Of($"{sql} IS NOT NULL") : Sql.Empty;
        var comparison = Sql.Of($"{sql} {Sql.Raw(sort.Descending ? "<" : ">")} {Parameter(key, value, scope)}");
        return sort.Nullable && !sort.NullsFirst ? Sql.Of($"({comparison} OR {sql} IS NULL)") : comparison;
    }

    private static Sql Parameter(OrderedKey key, object? value, StatementScope scope) =>
        scope.Parameter(value, Model.DbValues.TypeOf(key.Key.Kind));
}
