using GraphQLParser.AST;
using WorkflowGraph.Querying.Model;

namespace WorkflowGraph.SchemaBinding;

/// <summary>Fills each entity map's columns from its SDL type: every scalar field reads the column of the same (snake_case) name.</summary>
public static class EntityColumns
{
    private static readonly Dictionary<string, ScalarKind> ScalarKinds = new(StringComparer.Ordinal)
    {
        ["String"] = ScalarKind.String,
        ["ID"] = ScalarKind.String,
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
                ScalarKind kind;
                if (sdl.Enums.Contains(typeName))
                    kind = ScalarKind.Enum;
                else if (!ScalarKinds.TryGetValue(typeName, out kind))
                    throw new InvalidOperationException($"{map.TypeName}.{name} is of type {typeName} but no relation is mapped for it");
                map.Columns[name] = new ColumnMap(name, EntityMap.ColumnNameFor(name), kind, field.Type is not GraphQLNonNullType)
                {
                    Expression = map.Computed.GetValueOrDefault(name),
                };
            }
        }
    }
}
