using GraphQL;
using GraphQL.Types;
using NpgsqlTypes;
using WorkflowGraph.Database;
using WorkflowGraph.Querying.Emit;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Plans;
using WorkflowGraph.Querying.Selection;

namespace WorkflowGraph.Querying;

/// <summary>
/// <c>node(id:)</c> and <c>nodes(ids:)</c>: objects of any Node type by global id, each read with the fragments that
/// apply to its type, in one statement. Another organisation's row is null like a missing one (RLS hides it).
/// </summary>
public sealed class NodeQuery(EntityCatalog catalog, ShapePlanner shapes, QueryLimits limits)
{
    public async Task<object?> NodeAsync(IResolveFieldContext context, RequestDatabase database)
    {
        var (map, key) = Resolve(context.GetArgument<object?>("id"));
        var field = SelectionReader.Read(context, ObjectType(context, map));
        var scope = new StatementScope { PhiRead = database.Tenant.PhiRead };
        var alias = scope.Alias();
        var shape = shapes.Plan(map, field.Children);
        var row = ObjectSql.Record(shape, alias, scope);
        var audited = PhiAudit.Fields(database, [shape]);
        var runs = audited.Count > 0 ? Sql.Of($", array_to_string({AuditSql.RunIds(shape, alias, scope)}, ',')") : Sql.Empty;
        var keyColumn = map.IdColumn!;
        var statement = Sql.Of($"SELECT {row}{runs} FROM {Sql.Raw(map.Relation)} {alias} " +
                               $"WHERE {keyColumn.ValueOf(alias)} = {scope.Parameter(key, DbValues.TypeOf(keyColumn.Kind))}");
        return await RunAsync(context, statement, scope, database, audited, (shape, map.TypeName));
    }

    public async Task<object?> NodesAsync(IResolveFieldContext context, RequestDatabase database)
    {
        var ids = context.GetArgument<List<object?>>("ids") ?? [];
        if (ids.Count > limits.MaxPageSize)
            throw new ExecutionError($"nodes takes at most {limits.MaxPageSize} ids; {ids.Count} were given") { Code = "TOO_MANY_IDS" };
        if (ids.Count == 0)
            return new RawJson("[]");
        // positions are 1-based, as SQL counts them; each type's rows are read by one branch of the union
        var byType = ids.Select((id, i) => (Target: Resolve(id), Position: i + 1)).GroupBy(x => x.Target.Map).ToList();
        var scope = new StatementScope { PhiRead = database.Tenant.PhiRead };
        var branches = new List<Sql>();
        var planned = byType
            .Select(g => (Group: g, Shape: shapes.Plan(g.Key, SelectionReader.Read(context, ObjectType(context, g.Key)).Children)))
            .ToList();
        var audited = PhiAudit.Fields(database, planned.Select(p => p.Shape));
        foreach (var (group, shape) in planned)
        {
            var map = group.Key;
            var alias = scope.Alias();
            var keys = scope.Alias();
            var keyColumn = map.IdColumn!;
            var keyValues = KeyArray(group.Select(g => g.Target.Key).ToList(), keyColumn.Kind);
            var row = ObjectSql.Build(shape, alias, scope);
            var runs = audited.Count > 0 ? Sql.Of($", {AuditSql.RunIds(shape, alias, scope)} AS r") : Sql.Empty;
            branches.Add(Sql.Of(
                $"SELECT {keys}.ord, {row} AS j{runs} FROM unnest(" +
                $"{scope.Parameter(keyValues, NpgsqlDbType.Array | DbValues.TypeOf(keyColumn.Kind))}, " +
                $"{scope.Parameter(group.Select(g => g.Position).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Integer)}) " +
                $"{keys}(key, ord) JOIN {Sql.Raw(map.Relation)} {alias} ON {keyColumn.ValueOf(alias)} = {keys}.key"));
        }
        var position = scope.Alias();
        var found = scope.Alias();
        var allRuns = audited.Count > 0
            ? Sql.Of($", string_agg(array_to_string({found}.r, ','), ',') FILTER (WHERE {found}.j IS NOT NULL)")
            : Sql.Empty;
        var statement = Sql.Of(
            $"SELECT coalesce(json_agg({found}.j ORDER BY {position}.ord), '[]'::json){allRuns} " +
            $"FROM generate_series(1, {ids.Count}) {position}(ord) " +
            $"LEFT JOIN ({Sql.Join(" UNION ALL ", branches)}) {found} ON {found}.ord = {position}.ord");
        return await RunAsync(context, statement, scope, database, audited);
    }

    /// <summary>The Node type and database key an id names.</summary>
    /// <exception cref="ExecutionError">INVALID_ID: not an id this API handed out, or of a type that is not a Node.</exception>
    private (EntityMap Map, object Key) Resolve(object? id)
    {
        if (!GlobalId.TryParse(id, out var typeName, out var text))
            throw GlobalId.Invalid($"{GlobalId.Describe(id)} is not an id of this API");
        if (catalog.Find(typeName) is not { IdColumn: { } column } map)
            throw GlobalId.Invalid($"{GlobalId.Describe(id)} is not the id of a Node");
        return (map, GlobalId.ParseKey(text, column.Kind) ?? throw GlobalId.Invalid($"{GlobalId.Describe(id)} is not an id of this API"));
    }

    private static IObjectGraphType ObjectType(IResolveFieldContext context, EntityMap map) =>
        context.Schema.AllTypes[map.TypeName] as IObjectGraphType
        ?? throw new InvalidOperationException($"the schema has no object type {map.TypeName}");

    private static Array KeyArray(List<object> keys, ScalarKind kind) => kind switch
    {
        ScalarKind.Long => keys.Cast<long>().ToArray(),
        ScalarKind.Int => keys.Cast<int>().ToArray(),
        ScalarKind.Uuid => keys.Cast<Guid>().ToArray(),
        _ => throw new InvalidOperationException($"a key of kind {kind} cannot be a global id"),
    };

    /// <summary>Runs the statement: its JSON (or, with <paramref name="record"/>, its row value of that shape, an object of
    /// that type), then (when <paramref name="audited"/> has fields) the runs of the rows found as text, null when none was
    /// found.</summary>
    private static async Task<RawJson?> RunAsync(IResolveFieldContext context, Sql statement, StatementScope scope,
        RequestDatabase database, IReadOnlySet<string> audited, (ObjectShape Shape, string TypeName)? record = null) =>
        await database.QueryAsync(statement.ToString(), scope.Parameters, async (reader, ct) =>
        {
            if (!await reader.ReadAsync(ct) || reader.IsDBNull(0))
                return null;
            if (audited.Count > 0 && !reader.IsDBNull(1))
                database.PhiAccess.Add(audited, PhiAccessRecord.ParseRuns(reader.GetString(1)));
            if (record is not { } one)
                return new RawJson(reader.GetString(0));
            return RecordJson.WriteOne(reader, 0, one.Shape, one.TypeName);
        }, context.CancellationToken);
}
