using System.Globalization;
using System.Text;
using System.Text.Json;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Hostile;

/// <summary>
/// Generates GraphQL requests from the served schema (read by introspection): selections of real fields with
/// arguments of every input type, valid and invalid values, fragments, aliases, directives and variables; then, for
/// some, mutates the text (spans deleted, duplicated or replaced by stray tokens). Deterministic for a seed.
/// </summary>
public sealed class DocumentFuzzer(JsonElement schema, Random random)
{
    private static readonly string[] StrayTokens =
        ["{", "}", "(", ")", "...", "$x", "@skip(if: true)", "\"", "\\u0000", ":", "[", "]", "fragment", "on", "__typename", "!", "=", "#"];

    private static readonly string[] Strings =
        ["", "a", "EXT-001", "x\u0000y", "%", "é€😀", "' OR 1=1 --", "\\", new string('z', 3000)];

    private readonly Dictionary<string, JsonElement> _types = schema.GetProperty("types").EnumerateArray()
        .ToDictionary(type => type.GetProperty("name").GetString()!, type => type);

    private int _fragments;

    /// <summary>A request body: <c>{"query", "variables"?}</c> as JSON text (sometimes not even that).</summary>
    public string Next()
    {
        _fragments = 0;
        var fragments = new StringBuilder();
        var root = random.Next(10) switch
        {
            < 7 => ("query", "Query"),
            < 9 => ("mutation", "Mutation"),
            _ => ("subscription", "Subscription"),
        };
        var body = Selection(root.Item2, depth: 0, fragments);
        var text = body + fragments;
        // the variables a value happened to use ($v of the JSON scalar, $n an Int), declared and given
        var declared = new List<string>();
        var given = new Dictionary<string, object?>();
        if (text.Contains("$v", StringComparison.Ordinal))
        {
            declared.Add("$v: JSON");
            given["v"] = JsonValue(3);
        }
        if (text.Contains("$n", StringComparison.Ordinal))
        {
            declared.Add("$n: Int");
            given["n"] = Pick([0, 1, 20, 100, 101, -1, int.MaxValue]);
        }
        var header = declared.Count == 0 ? root.Item1 : $"{root.Item1} ({string.Join(", ", declared)})";
        var variables = given.Count == 0 ? null : JsonSerializer.Serialize(given);
        var document = $"{header} {body}\n{fragments}";
        if (random.Next(4) == 0)
            document = Mutate(document);
        if (random.Next(50) == 0)
            return "{\"query\": " + JsonSerializer.Serialize(document) + ", \"variables\": " + Pick(["[]", "\"x\"", "1", "{\"v\":"]) + "}";
        return variables is null
            ? JsonSerializer.Serialize(new { query = document })
            : $"{{\"query\": {JsonSerializer.Serialize(document)}, \"variables\": {variables}}}";
    }

    private string Selection(string typeName, int depth, StringBuilder fragments)
    {
        var type = _types[typeName];
        if (!type.TryGetProperty("fields", out var fieldList) || fieldList.ValueKind != JsonValueKind.Array)
            return "{ __typename }";
        var fields = fieldList.EnumerateArray().ToArray();
        var parts = new List<string>();
        var count = 1 + random.Next(depth == 0 ? 2 : 4);
        for (var i = 0; i < count; i++)
        {
            var field = fields[random.Next(fields.Length)];
            var name = field.GetProperty("name").GetString()!;
            var alias = random.Next(6) == 0 ? $"a{random.Next(100)}: " : "";
            var args = Arguments(field);
            var named = NamedType(field.GetProperty("type"));
            var sub = _types[named].GetProperty("kind").GetString() is "OBJECT" or "INTERFACE" or "UNION"
                ? depth < 4 ? " " + Selection(Concrete(named), depth + 1, fragments) : " { __typename }"
                : "";
            var directive = random.Next(12) == 0 ? $" @include(if: {(random.Next(2) == 0 ? "true" : "false")})" : "";
            parts.Add($"{alias}{name}{args}{directive}{sub}");
        }
        if (random.Next(8) == 0 && _fragments < 3)
        {
            var fragment = $"F{_fragments++}";
            fragments.Append($"fragment {fragment} on {typeName} {Selection(typeName, depth + 1, fragments)}\n");
            parts.Add($"...{fragment} ...{fragment}");
        }
        if (random.Next(10) == 0)
            parts.Add("__typename");
        return "{ " + string.Join(' ', parts) + " }";
    }

    /// <summary>A union or interface selects through one of its possible types.</summary>
    private string Concrete(string typeName)
    {
        var type = _types[typeName];
        if (type.GetProperty("kind").GetString() is "UNION" or "INTERFACE"
            && type.TryGetProperty("possibleTypes", out var possible) && possible.ValueKind == JsonValueKind.Array
            && possible.GetArrayLength() > 0)
            return possible[random.Next(possible.GetArrayLength())].GetProperty("name").GetString()!;
        return typeName;
    }

    private string Arguments(JsonElement field)
    {
        if (!field.TryGetProperty("args", out var args) || args.GetArrayLength() == 0)
            return "";
        var given = new List<string>();
        foreach (var arg in args.EnumerateArray())
        {
            var required = arg.GetProperty("type").GetProperty("kind").GetString() == "NON_NULL";
            if (!required && random.Next(3) != 0)
                continue;
            given.Add($"{arg.GetProperty("name").GetString()}: {Value(arg.GetProperty("type"), 0)}");
        }
        return given.Count == 0 ? "" : "(" + string.Join(", ", given) + ")";
    }

    private string Value(JsonElement typeRef, int depth)
    {
        var kind = typeRef.GetProperty("kind").GetString();
        if (kind == "NON_NULL")
            return Value(typeRef.GetProperty("ofType"), depth);
        if (random.Next(40) == 0)
            return Pick(["null", "$v", "$n", "\"wrong\"", "7", "[]", "{}"]);
        if (kind == "LIST")
        {
            var items = Enumerable.Range(0, random.Next(4)).Select(_ => Value(typeRef.GetProperty("ofType"), depth + 1));
            return "[" + string.Join(", ", items) + "]";
        }
        var name = typeRef.GetProperty("name").GetString()!;
        var type = _types[name];
        switch (type.GetProperty("kind").GetString())
        {
            case "ENUM":
                var values = type.GetProperty("enumValues").EnumerateArray().ToArray();
                return values[random.Next(values.Length)].GetProperty("name").GetString()!;
            case "INPUT_OBJECT":
                if (depth > 3)
                    return "{}";
                var inputs = type.GetProperty("inputFields").EnumerateArray().ToArray();
                var chosen = inputs.Where(input => input.GetProperty("type").GetProperty("kind").GetString() == "NON_NULL"
                                                   || random.Next(4) == 0).Take(4);
                return "{ " + string.Join(", ", chosen.Select(input =>
                    $"{input.GetProperty("name").GetString()}: {Value(input.GetProperty("type"), depth + 1)}")) + " }";
        }
        return name switch
        {
            "Int" => Pick(["0", "1", "3", "20", "100", "101", "-1", "2147483647", "99999999999"]),
            "Long" => Pick(["1", "3", "13", "18", "40", "41", "0", "-5", "9223372036854775807", "\"12\""]),
            "Float" => Pick(["0.5", "1e308", "-1"]),
            "Boolean" => Pick(["true", "false"]),
            "UUID" => Pick(["\"aaaaaaaa-2222-4000-8000-000000000001\"", $"\"{RandomGuid()}\"", "\"not-a-uuid\""]),
            "DateTime" => Pick(["\"2026-01-10T00:00:00Z\"", "\"2026-01-10T05:00:00+02:00\"", "\"yesterday\""]),
            "JSON" => JsonLiteral(2),
            "ID" => Pick([
                "\"1\"", "\"x\"", $"\"{Ids.Trace(3)}\"", $"\"{Ids.Trace(13)}\"", $"\"{Ids.Trace(45)}\"", $"\"{Ids.Step(1)}\"",
                $"\"{Ids.Workflow(Guid.Parse("aaaaaaaa-2222-4000-8000-000000000001"))}\"", $"\"{Ids.Node(101)}\"",
            ]),
            _ => JsonSerializer.Serialize(Pick(Strings)),
        };
    }

    private string JsonLiteral(int depth) => random.Next(depth <= 0 ? 4 : 6) switch
    {
        0 => Pick(["1", "-2.5", "1e300", "99999999999999999999999"]),
        1 => JsonSerializer.Serialize(Pick(Strings)),
        2 => Pick(["true", "null"]),
        3 => "\"k\"",
        4 => "[" + string.Join(", ", Enumerable.Range(0, random.Next(3)).Select(_ => JsonLiteral(depth - 1))) + "]",
        _ => "{ " + string.Join(", ", Enumerable.Range(0, random.Next(3)).Select(i => $"k{i}: {JsonLiteral(depth - 1)}")) + " }",
    };

    private object? JsonValue(int depth) => random.Next(depth <= 0 ? 4 : 6) switch
    {
        0 => Pick<object>([1, -2.5, 1e300, long.MaxValue]),
        1 => Pick(Strings),
        2 => null,
        3 => true,
        4 => Enumerable.Range(0, random.Next(3)).Select(_ => JsonValue(depth - 1)).ToList(),
        _ => Enumerable.Range(0, random.Next(3))
            .ToDictionary(i => "k" + i.ToString(CultureInfo.InvariantCulture), _ => JsonValue(depth - 1)),
    };

    private string Mutate(string document)
    {
        var text = new StringBuilder(document);
        for (var edits = 1 + random.Next(3); edits > 0 && text.Length > 2; edits--)
        {
            var at = random.Next(text.Length);
            var length = Math.Min(text.Length - at, 1 + random.Next(12));
            switch (random.Next(3))
            {
                case 0:
                    text.Remove(at, length);
                    break;
                case 1:
                    text.Insert(at, text.ToString(at, length));
                    break;
                default:
                    text.Insert(at, " " + Pick(StrayTokens) + " ");
                    break;
            }
        }
        return text.ToString();
    }

    private static string NamedType(JsonElement typeRef) =>
        typeRef.GetProperty("kind").GetString() is "NON_NULL" or "LIST"
            ? NamedType(typeRef.GetProperty("ofType"))
            : typeRef.GetProperty("name").GetString()!;

    private Guid RandomGuid()
    {
        var bytes = new byte[16];
        random.NextBytes(bytes);
        return new Guid(bytes);
    }

    private T Pick<T>(IReadOnlyList<T> choices) => choices[random.Next(choices.Count)];
}
