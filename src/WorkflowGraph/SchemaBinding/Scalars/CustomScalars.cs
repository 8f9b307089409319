using GraphQL;
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
        // they replace the SDL's declarations, so they carry the SDL's descriptions and @specifiedBy
        var declared = sdl.Document.Definitions.OfType<GraphQLScalarTypeDefinition>().ToDictionary(d => d.Name.StringValue);
        schema.Directives.Register(ServedSchema.SpecifiedByDirective());
        ScalarGraphType[] scalars =
        [
            new UuidGraphType(), new DateTimeOffsetGraphType(), new JsonGraphType(), new LongGraphType(), new NulFreeStringGraphType(),
        ];
        foreach (var scalar in scalars)
        {
            var declaration = declared.GetValueOrDefault(scalar.Name);
            scalar.Description = declaration?.Description?.Value.ToString() ?? scalar.Description;
            if (SpecifiedBy(declaration) is { } url)
                scalar.ApplyDirective(ServedSchema.SpecifiedBy, "url", url);
            schema.RegisterType(scalar);
        }
    }

    private static string? SpecifiedBy(GraphQLScalarTypeDefinition? declaration) =>
        declaration?.Directives?.Items.FirstOrDefault(d => d.Name.StringValue == ServedSchema.SpecifiedBy)?.Arguments?.Items
            .FirstOrDefault(a => a.Name.StringValue == "url")?.Value is GraphQLStringValue url ? url.Value.ToString() : null;
}
