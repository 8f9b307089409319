using GraphQL;
using Npgsql;
using WorkflowGraph.Database;
using WorkflowGraph.Querying.Emit;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Plans;
using WorkflowGraph.Querying.Selection;

namespace WorkflowGraph.Querying;

/// <summary>
/// Root fields that return one object or a plain list: a row by key, or the rows of a SQL function. One statement
/// each; the SQL helpers' errors (SQLSTATE class WF) become GraphQL errors with codes.
/// </summary>
public sealed class RowQuery(ShapePlanner shapes)
{
    /// <summary>
    /// The row of <paramref name="map"/> whose <paramref name="keyColumn"/> holds the key of the global id in the argument
    /// <paramref name="argument"/> (an id of another type is an INVALID_ID error).
    /// </summary>
    public async Task<object?> ByKeyAsync(IResolveFieldContext context, EntityMap map, string keyColumn, string argument,
        RequestDatabase database)
    {
        var field = SelectionReader.Read(context);
        var shape = shapes.Plan(map, field.Children);
        var scope = new StatementScope();
        var alias = scope.Alias();
        var column = map.KeyColumn(keyColumn);
        var key = scope.Parameter(GlobalId.Decode(field.Argument(argument), map.TypeName, column.Kind), DbValues.TypeOf(column.Kind));
        var statement = Sql.Of(
            $"SELECT {ObjectSql.Build(shape, alias, scope)} FROM {Sql.Raw(map.Relation)} {alias} " +
            $"WHERE {column.ValueOf(alias)} = {key}");
        return await RunAsync(context, statement, scope, database, isolate: false);
    }

    /// <summary>Rows from a set-returning function: <paramref name="from"/> writes the call (with its parameters).</summary>
    public async Task<object?> FunctionAsync(IResolveFieldContext context, EntityMap map, Func<FieldSelection, StatementScope, Sql> from,
        RequestDatabase database, bool list)
    {
        var field = SelectionReader.Read(context);
        var shape = shapes.Plan(map, field.Children);
        var scope = new StatementScope();
        var alias = scope.Alias();
        var source = from(field, scope);
        var row = ObjectSql.Build(shape, alias, scope);
        var statement = list
            ? Sql.Of($"SELECT coalesce(json_agg({row}), '[]'::json) FROM {source} {alias}")
            : Sql.Of($"SELECT {row} FROM {source} {alias}");
        return await RunAsync(context, statement, scope, database, isolate: true);
    }

    private static async Task<RawJson?> RunAsync(IResolveFieldContext context, Sql statement, StatementScope scope,
        RequestDatabase database, bool isolate)
    {
        try
        {
            return await database.QueryAsync(statement.ToString(), scope.Parameters, async (reader, ct) =>
                await reader.ReadAsync(ct) && !reader.IsDBNull(0) ? new RawJson(reader.GetString(0)) : null,
                context.CancellationToken, isolate);
        }
        catch (PostgresException e) when (HelperErrors.Classify(e.SqlState) is { } error)
        {
            throw QueryErrors.FromHelper(error, e.MessageText);
        }
    }
}
