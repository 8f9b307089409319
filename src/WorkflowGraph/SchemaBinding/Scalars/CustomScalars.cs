using GraphQL.Types;
using GraphQLParser.AST;

namespace WorkflowGraph.SchemaBinding.Scalars;

/// <summary>
/// The SDL's custom scalars, registered by name (GraphQL.NET does not bind them by itself). Values read from
/// PostgreSQL arrive as JSON text already in their wire form (UUID, ISO-8601), so serializing passes strings through;
/// parsing turns client input into the CLR types Npgsql writes.
/// </summary>
public static class CustomScalars
{
    public static void Register(ISchema schema, SdlTypes sdl)
    {
        // they replace the SDL's declarations, so they carry the SDL's descriptions
        var descriptions = sdl.Document.Definitions.OfType<GraphQLScalarTypeDefinition>()
            .ToDictionary(d => d.Name.StringValue, d => d.Description?.Value.ToString());
        ScalarGraphType[] scalars =
        [
            new UuidGraphType(), new DateTimeOffsetGraphType(), new JsonGraphType(), new LongGraphType(), new NulFreeStringGraphType(),
        ];
        foreach (var scalar in scalars)
        {
            scalar.Description = descriptions.GetValueOrDefault(scalar.Name) ?? scalar.Description;
            schema.RegisterType(scalar);
        }
    }
}
