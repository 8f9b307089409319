using GraphQL.Types;

namespace WorkflowGraph.SchemaBinding.Scalars;

/// <summary>
/// GraphQL's <c>String</c>, refusing the NUL character: PostgreSQL cannot store it in text, and sent there it would fail
/// the statement (and the request's transaction) instead of the one argument. A literal is refused by validation
/// (ARGUMENTS_OF_CORRECT_TYPE), a variable by its coercion (INVALID_VALUE), both before any SQL.
/// </summary>
public sealed class NulFreeStringGraphType : StringGraphType
{
    public const string Refusal = "a String may not contain the NUL character (U+0000)";

    public NulFreeStringGraphType() => Name = "String";

    public override object? ParseValue(object? value) => Checked(base.ParseValue(value));

    public override object? ParseLiteral(GraphQLParser.AST.GraphQLValue value) => Checked(base.ParseLiteral(value));

    public override bool CanParseValue(object? value) => value is not string text ? base.CanParseValue(value) : !HasNul(text);

    public override bool CanParseLiteral(GraphQLParser.AST.GraphQLValue value) =>
        value is GraphQLParser.AST.GraphQLStringValue text ? !text.Value.Span.Contains('\0') : base.CanParseLiteral(value);

    public static bool HasNul(string text) => text.Contains('\0', StringComparison.Ordinal);

    private static object? Checked(object? value) =>
        value is string text && HasNul(text) ? throw new FormatException(Refusal) : value;
}
