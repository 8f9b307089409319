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
        var column = map.KeyColumn(keyColumn);
        var keyValue = GlobalId.Decode(context.Arguments?.TryGetValue(argument, out var given) == true ? given.Value : null,
            map.TypeName, column.Kind);
        var phiRead = database.Tenant.PhiRead;
        var variant = FieldStatements.Variant(context, phiRead, keyArgument: argument);
        if (variant is null || !_byKey.TryGet(context, variant, out var kept))
        {
            var shape = shapes.Plan(map, SelectionReader.Read(context).Children);
            var scope = new StatementScope { PhiRead = phiRead };
            var alias = scope.Alias();
            var keyIndex = scope.Parameters.Count;
            var key = scope.Parameter(keyValue, DbValues.TypeOf(column.Kind));
            var audited = PhiAudit.Fields(database, [shape]);
            var runs = audited.Count > 0 ? Sql.Of($", array_to_string({AuditSql.RunIds(shape, alias, scope)}, ',')") : Sql.Empty;
            var statement = Sql.Of(
                $"SELECT {ObjectSql.Record(shape, alias, scope)}{runs} FROM {Sql.Raw(map.Relation)} {alias} " +
                $"WHERE {column.ValueOf(alias)} = {key}").ToString();
            // kept parameters are never given to a command, only their copies
            kept = new ByKeyStatement(statement, [.. scope.Parameters], keyIndex, shape, audited);
            if (variant is not null)
                _byKey.Add(context, variant, kept, FieldStatements.Weight(statement, variant, kept.Parameters));
        }
        var parameters = FieldStatements.Parameters(kept.Parameters, kept.KeyIndex, keyValue);
        return await RunAsync(context, kept.Sql, parameters, database, kept.Audited, isolate: false, record: kept.Shape);
    }

    private readonly FieldStatements<ByKeyStatement> _byKey = new();

    /// <summary>By-key requests whose statement was found kept (<see cref="FieldStatements{T}"/>).</summary>
    public long KeptStatementsUsed => _byKey.Hits;

    /// <summary>A by-key field's statement as written for one variant (<see cref="FieldStatements{T}"/>); the parameter at
    /// <paramref name="KeyIndex"/> is the key, replaced by each request's.</summary>
    private sealed record ByKeyStatement(string Sql, NpgsqlParameter[] Parameters, int KeyIndex, ObjectShape Shape,
        IReadOnlySet<string> Audited);

    /// <summary>Rows from a set-returning function: <paramref name="from"/> writes the call (with its parameters).</summary>
    public async Task<object?> FunctionAsync(IResolveFieldContext context, EntityMap map, Func<FieldSelection, StatementScope, Sql> from,
        RequestDatabase database, bool list)
    {
        var field = SelectionReader.Read(context);
        var shape = shapes.Plan(map, field.Children);
        var scope = new StatementScope { PhiRead = database.Tenant.PhiRead };
        var alias = scope.Alias();
        var source = from(field, scope);
        var row = ObjectSql.Build(shape, alias, scope);
        var audited = PhiAudit.Fields(database, [shape]);
        var runs = audited.Count == 0 ? Sql.Empty
            : list ? Sql.Of($", string_agg(array_to_string({AuditSql.RunIds(shape, alias, scope)}, ','), ',')")
            : Sql.Of($", array_to_string({AuditSql.RunIds(shape, alias, scope)}, ',')");
        var statement = list
            ? Sql.Of($"SELECT coalesce(json_agg({row}), '[]'::json){runs} FROM {source} {alias}")
            : Sql.Of($"SELECT {row}{runs} FROM {source} {alias}");
        return await RunAsync(context, statement.ToString(), scope.Parameters, database, audited, isolate: true);
    }

    /// <summary>Runs the statement: its JSON (or, with <paramref name="record"/>, its row value of that shape) first, then
    /// (when <paramref name="audited"/> has fields) the runs of its rows as text, null when no row came back.</summary>
    private static async Task<RawJson?> RunAsync(IResolveFieldContext context, string statement, IReadOnlyList<NpgsqlParameter> parameters,
        RequestDatabase database, IReadOnlySet<string> audited, bool isolate, ObjectShape? record = null)
    {
        try
        {
            return await database.QueryAsync(statement, parameters, async (reader, ct) =>
            {
                if (!await reader.ReadAsync(ct) || reader.IsDBNull(0))
                    return null;
                if (audited.Count > 0 && !reader.IsDBNull(1))
                    database.PhiAccess.Add(audited, PhiAccessRecord.ParseRuns(reader.GetString(1)));
                if (record is null)
                    return new RawJson(reader.GetString(0));
                return RecordJson.WriteOne(reader, 0, record);
            }, context.CancellationToken, isolate);
        }
        catch (PostgresException e) when (HelperErrors.Classify(e.SqlState) is { } error)
        {
            throw QueryErrors.FromHelper(error, e.MessageText);
        }
    }
}
