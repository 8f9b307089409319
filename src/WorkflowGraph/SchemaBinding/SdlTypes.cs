using GraphQLParser;
using GraphQLParser.AST;

namespace WorkflowGraph.SchemaBinding;

/// <summary>The SDL's type definitions, looked up by name while the schema is bound.</summary>
public sealed class SdlTypes
{
    public SdlTypes(string sdl)
    {
        Document = Parser.Parse(sdl);
        Objects = Document.Definitions.OfType<GraphQLObjectTypeDefinition>().ToDictionary(t => t.Name.StringValue);
        Interfaces = Document.Definitions.OfType<GraphQLInterfaceTypeDefinition>().Select(i => i.Name.StringValue).ToHashSet();
        Inputs = Document.Definitions.OfType<GraphQLInputObjectTypeDefinition>().ToDictionary(t => t.Name.StringValue);
        Enums = Document.Definitions.OfType<GraphQLEnumTypeDefinition>().Select(e => e.Name.StringValue).ToHashSet();
        Unions = Document.Definitions.OfType<GraphQLUnionTypeDefinition>().ToDictionary(u => u.Name.StringValue,
            u => (IReadOnlyCollection<string>)(u.Types?.Items.Select(t => t.Name.StringValue).ToList() ?? []));
    }

    public GraphQLDocument Document { get; }
    public IReadOnlyDictionary<string, GraphQLObjectTypeDefinition> Objects { get; }
    public IReadOnlySet<string> Enums { get; }
    public IReadOnlySet<string> Interfaces { get; }
    public IReadOnlyDictionary<string, GraphQLInputObjectTypeDefinition> Inputs { get; }

    /// <summary>Each union and its member types.</summary>
    public IReadOnlyDictionary<string, IReadOnlyCollection<string>> Unions { get; }

    public static IEnumerable<GraphQLFieldDefinition> FieldsOf(GraphQLObjectTypeDefinition type) => type.Fields?.Items ?? [];

    /// <summary>The named type under any list and non-null wrappers.</summary>
    public static string NamedType(GraphQLType type) => type switch
    {
        GraphQLNonNullType n => NamedType(n.Type),
        GraphQLListType l => NamedType(l.Type),
        GraphQLNamedType n => n.Name.StringValue,
        _ => throw new InvalidOperationException("unknown type node"),
    };
}
