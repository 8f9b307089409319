using GraphQL;
using Npgsql;
using WorkflowGraph.Database;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Selection;

namespace WorkflowGraph.Querying;

/// <summary>
/// Root fields that return one object or a plain list: a row by key, or the rows of a SQL function. One statement
/// each; SQL function errors (SQLSTATE class WF) become GraphQL errors with codes.
/// </summary>
public sealed class RowQuery(Projection projection)
{
    /// <summary>The row of <paramref name="map"/> whose <paramref name="keyColumn"/> equals the argument <paramref name="argument"/>.</summary>
    public Task<object?> ByKeyAsync(IResolveFieldContext context, EntityMap map, string keyColumn, string argument, RequestDatabase database)
    {
        var field = SelectionReader.Read(context);
        var sql = new SqlBuilder();
        var alias = sql.Alias();
        var column = map.KeyColumn(keyColumn);
        var key = sql.Add(SqlBuilder.ToDbValue(field.Argument(argument), column.Kind), SqlBuilder.TypeOf(column.Kind));
        var statement = $"SELECT {projection.Object(map, alias, field.Children, sql)} FROM {map.Relation} {alias} WHERE {column.Sql(alias)} = {key}";
        return Boxed(RunAsync(context, statement, sql, database, isolate: false));
    }

    /// <summary>
    /// Rows from a set-returning function: <paramref name="from"/> builds the FROM item (with its parameters).
    /// </summary>
    public async Task<object?> FunctionAsync(IResolveFieldContext context, EntityMap map, Func<FieldSelection, SqlBuilder, string> from,
        RequestDatabase database, bool list)
    {
        var field = SelectionReader.Read(context);
        var sql = new SqlBuilder();
        var alias = sql.Alias();
        var source = from(field, sql);
        var objectSql = projection.Object(map, alias, field.Children, sql);
        if (!list)
            return await RunAsync(context, $"SELECT {objectSql} FROM {source} {alias}", sql, database, isolate: true);
        var statement = $"SELECT coalesce(json_agg({objectSql}), '[]'::json) FROM {source} {alias}";
        return await RunAsync(context, statement, sql, database, isolate: true);
    }

    private static async Task<object?> Boxed(Task<RawJson?> json) => await json;

    private static async Task<RawJson?> RunAsync(IResolveFieldContext context, string statement, SqlBuilder sql, RequestDatabase database, bool isolate)
    {
        try
        {
            return await database.QueryAsync(statement, sql.Parameters, async (reader, ct) =>
                await reader.ReadAsync(ct) && !reader.IsDBNull(0) ? new RawJson(reader.GetString(0)) : null,
                context.CancellationToken, isolate);
        }
        catch (PostgresException e) when (e.SqlState.StartsWith("WF", StringComparison.Ordinal))
        {
            throw SqlErrors.ToExecutionError(e);
        }
    }
}

/// <summary>The SQL helpers' error classes (db/CONVENTIONS.md) as GraphQL error codes.</summary>
public static class SqlErrors
{
    public static string Code(string sqlState) => sqlState switch
    {
        "WF001" => "NOT_FOUND",
        "WF002" => "INVALID_STATE",
        "WF003" => "VALIDATION",
        "WF004" => "DUPLICATE",
        _ => "DATABASE_ERROR",
    };

    public static ExecutionError ToExecutionError(PostgresException e) => new(e.MessageText) { Code = Code(e.SqlState) };
}
