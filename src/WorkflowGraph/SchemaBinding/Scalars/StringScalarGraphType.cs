using GraphQL.Types;
using GraphQLParser.AST;

namespace WorkflowGraph.SchemaBinding.Scalars;

/// <summary>A scalar written as a JSON string: a string literal parses like a string variable.</summary>
public abstract class StringScalarGraphType : ScalarGraphType
{
    public override object? ParseLiteral(GraphQLValue value) => value switch
    {
        GraphQLNullValue => null,
        GraphQLStringValue s => ParseValue((string)s.Value),
        _ => ThrowLiteralConversionError(value),
    };
}
