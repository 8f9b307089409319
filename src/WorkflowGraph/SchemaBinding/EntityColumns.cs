using GraphQLParser.AST;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;

namespace WorkflowGraph.SchemaBinding;

/// <summary>
/// Fills each entity map's columns from its SDL type: every scalar field reads the column of the same (snake_case)
/// name; <c>rowId</c> reads the key. Fields of type ID are global ids: <c>id</c> is the row's own (over
/// <see cref="EntityMap.IdColumns"/>), any other (<c>traceId</c>) refers to the type of the to-one navigation field
/// over the same column, or of <see cref="EntityMap.References"/>.
/// </summary>
public static class EntityColumns
{
    public const string RowId = "rowId";

    private static readonly Dictionary<string, ScalarKind> ScalarKinds = new(StringComparer.Ordinal)
    {
        ["String"] = ScalarKind.String,
        ["Int"] = ScalarKind.Int,
        ["Long"] = ScalarKind.Long,
        ["Float"] = ScalarKind.Float,
        ["Boolean"] = ScalarKind.Boolean,
        ["UUID"] = ScalarKind.Uuid,
        ["DateTime"] = ScalarKind.DateTime,
        ["JSON"] = ScalarKind.Json,
    };

    public static void Map(EntityCatalog catalog, SdlTypes sdl)
    {
        var ids = new List<(EntityMap Map, GraphQLFieldDefinition Field)>();
        foreach (var map in catalog.Maps)
        {
            if (!sdl.Objects.TryGetValue(map.TypeName, out var definition))
                throw new InvalidOperationException($"the SDL has no type {map.TypeName} for relation {map.Relation}");
            foreach (var field in SdlTypes.FieldsOf(definition))
            {
                var name = field.Name.StringValue;
                if (map.FindRelation(name) is not null)
                    continue;
                var typeName = SdlTypes.NamedType(field.Type);
                if (typeName == "ID")
                {
                    ids.Add((map, field));
                    continue;
                }
                ScalarKind kind;
                if (sdl.Enums.Contains(typeName))
                    kind = ScalarKind.Enum;
                else if (!ScalarKinds.TryGetValue(typeName, out kind))
                    throw new InvalidOperationException($"{map.TypeName}.{name} is of type {typeName} but no relation is mapped for it");
                var column = name == RowId ? SingleKey(map) : EntityMap.ColumnNameFor(name);
                var identifier = kind == ScalarKind.String && PhiMask.IdentifierColumns.Contains(column) ? column : null;
                map.Columns[name] = new ColumnMap(name, column, kind, field.Type is not GraphQLNonNullType)
                {
                    Expression = map.Computed.GetValueOrDefault(name),
                    Mask = kind == ScalarKind.Json ? map.JsonMasks.GetValueOrDefault(name, PhiMask.Unclassified)
                        : identifier is not null ? PhiMask.Identifier(identifier) : null,
                    GuardedIdentifier = identifier,
                };
            }
        }
        // references first: a view's own id may be made of a column that refers to another type (a summary's run)
        foreach (var (map, field) in ids.OrderBy(i => i.Field.Name.StringValue == "id"))
            map.Columns[field.Name.StringValue] = GlobalIdColumn(catalog, map, field);
    }

    private static ColumnMap GlobalIdColumn(EntityCatalog catalog, EntityMap map, GraphQLFieldDefinition field)
    {
        var name = field.Name.StringValue;
        var nullable = field.Type is not GraphQLNonNullType;
        if (name == "id" && map.IdColumns.Count > 1)
            return new ColumnMap(name, name, ScalarKind.String, nullable)
            {
                GlobalType = map.TypeName,
                Expression = alias => GlobalId.Expression(map.TypeName, map.IdColumns.Select(c => (Sql)alias.Column(c)).ToList()),
            };
        var column = name == "id" ? map.IdColumns[0] : EntityMap.ColumnNameFor(name);
        var type = name == "id" ? map.TypeName : ReferencedType(map, name, column);
        return new ColumnMap(name, column, KeyKind(catalog, map, column, type), nullable)
        {
            GlobalType = type,
            StoredGlobalId = name == "id" ? map.StoredGlobalId : null,
        };
    }

    private static string ReferencedType(EntityMap map, string field, string column) =>
        map.Relations.FirstOrDefault(r => r.Kind != RelationKind.Many && r.Join.Count == 1 && r.Join[0].Local == column)?.TargetType
        ?? map.References.GetValueOrDefault(field)
        ?? throw new InvalidOperationException(
            $"{map.TypeName}.{field} is an ID but neither a to-one navigation field over {column} nor a reference says of what");

    /// <summary>The kind of the key a global id over <paramref name="column"/> holds: the column's own, or its type's row id
    /// (its own type's too: a run's parentTraceId).</summary>
    private static ScalarKind KeyKind(EntityCatalog catalog, EntityMap map, string column, string type)
    {
        if (map.Columns.Values.FirstOrDefault(c => c.Column == column && c.Expression is null) is { } known)
            return known.Kind;
        if (catalog.Get(type).Columns.TryGetValue(RowId, out var rowId))
            return rowId.Kind;
        throw new InvalidOperationException($"{map.TypeName}: the kind of the key in {column} is unknown (no {RowId} to read it from)");
    }

    private static string SingleKey(EntityMap map) => map.Key.Count == 1
        ? map.Key[0]
        : throw new InvalidOperationException($"{map.TypeName}.{RowId} needs a single-column key");
}
