using System.Globalization;
using System.Text.Json;
using GraphQL.Types;
using GraphQLParser.AST;

namespace WorkflowGraph.SchemaBinding.Scalars;

/// <summary>Any JSON value; output is written as it came from jsonb, input keeps the client's structure.</summary>
public sealed class JsonGraphType : ScalarGraphType
{
    public JsonGraphType() => Name = "JSON";

    public override object? ParseValue(object? value) => value;

    public override object? ParseLiteral(GraphQLValue value) => value switch
    {
        GraphQLNullValue => null,
        GraphQLStringValue s => (string)s.Value,
        GraphQLBooleanValue b => b.BoolValue,
        GraphQLIntValue i => long.Parse(i.Value.Span, CultureInfo.InvariantCulture),
        GraphQLFloatValue f => double.Parse(f.Value.Span, CultureInfo.InvariantCulture),
        GraphQLEnumValue e => e.Name.StringValue,
        GraphQLListValue l => l.Values?.Select(ParseLiteral).ToList() ?? [],
        GraphQLObjectValue o => o.Fields?.ToDictionary(f => f.Name.StringValue, f => ParseLiteral(f.Value)) ?? [],
        _ => ThrowLiteralConversionError(value),
    };

    public override bool CanParseLiteral(GraphQLValue value) => value is not GraphQLVariable;

    public override object? Serialize(object? value) => value is JsonElement { ValueKind: JsonValueKind.Null } ? null : value;
}
