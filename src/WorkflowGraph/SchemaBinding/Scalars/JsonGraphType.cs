using System.Collections;
using System.Globalization;
using System.Text.Json;
using GraphQL.Types;
using GraphQLParser.AST;

namespace WorkflowGraph.SchemaBinding.Scalars;

/// <summary>
/// Any JSON value; output is written as it came from jsonb, input keeps the client's structure. Input that jsonb cannot
/// hold is refused as the argument's error, before any SQL: a string (or key) with the NUL character, a number that
/// is not finite or has no exact JSON form.
/// </summary>
public sealed class JsonGraphType : ScalarGraphType
{
    public JsonGraphType() => Name = "JSON";

    public override object? ParseValue(object? value)
    {
        Check(value);
        return value;
    }

    public override object? ParseLiteral(GraphQLValue value) => value switch
    {
        GraphQLNullValue => null,
        GraphQLStringValue s => Checked((string)s.Value),
        GraphQLBooleanValue b => b.BoolValue,
        GraphQLIntValue i => long.TryParse(i.Value.Span, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
            ? n
            : Finite(double.Parse(i.Value.Span, CultureInfo.InvariantCulture)),
        GraphQLFloatValue f => Finite(double.Parse(f.Value.Span, CultureInfo.InvariantCulture)),
        GraphQLEnumValue e => e.Name.StringValue,
        GraphQLListValue l => l.Values?.Select(ParseLiteral).ToList() ?? [],
        GraphQLObjectValue o => o.Fields?.ToDictionary(f => Checked(f.Name.StringValue), f => ParseLiteral(f.Value)) ?? [],
        _ => ThrowLiteralConversionError(value),
    };

    public override bool CanParseLiteral(GraphQLValue value) => value is not GraphQLVariable;

    public override object? Serialize(object? value) => value is JsonElement { ValueKind: JsonValueKind.Null } ? null : value;

    private static string Checked(string text) =>
        NulFreeStringGraphType.HasNul(text) ? throw new FormatException("JSON text may not contain the NUL character (U+0000)") : text;

    private static double Finite(double number) =>
        double.IsFinite(number) ? number : throw new FormatException("a JSON number must be finite");

    /// <summary>A variable's value, as the request's JSON reader made it (iteratively: its depth is the reader's to bound).</summary>
    private static void Check(object? value)
    {
        var pending = new Stack<object?>();
        pending.Push(value);
        while (pending.Count > 0)
        {
            switch (pending.Pop())
            {
                case string text:
                    Checked(text);
                    break;
                case double number:
                    Finite(number);
                    break;
                case float number:
                    Finite(number);
                    break;
                case IDictionary<string, object?> map:
                    foreach (var (key, item) in map)
                    {
                        Checked(key);
                        pending.Push(item);
                    }
                    break;
                case IEnumerable list and not string:
                    foreach (var item in list)
                        pending.Push(item);
                    break;
            }
        }
    }
}
