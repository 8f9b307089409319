using System.Text.Json;
using GraphQL.Execution;
using GraphQL.Types;
using GraphQLParser.AST;

namespace WorkflowGraph.Querying.Selection;

/// <summary>
/// One field of a selection set with its coerced arguments and, for object fields, its own selection — fragments
/// expanded, @skip/@include applied, repeated response keys merged — so a whole subtree compiles to one SQL.
/// </summary>
public sealed class FieldSelection(
    string responseKey, FieldType? definition, IDictionary<string, ArgumentValue>? arguments, string? metaName = null)
{
    public const string Typename = "__typename";

    public string ResponseKey { get; } = responseKey;

    /// <summary><see cref="ResponseKey"/> as a JSON property name, encoded once for the service's own JSON writers.</summary>
    public JsonEncodedText EncodedKey => _encodedKey ??= JsonEncodedText.Encode(ResponseKey);

    private JsonEncodedText? _encodedKey;

    /// <summary>Null for <c>__typename</c>, which every object answers with its type's name.</summary>
    public FieldType? Definition { get; } = definition;
    public string Name => Definition?.Name ?? metaName!;
    public List<GraphQLField> Nodes { get; } = [];
    public IReadOnlyList<FieldSelection> Children { get; internal set; } = [];

    public object? Argument(string name) =>
        arguments is not null && arguments.TryGetValue(name, out var value) ? value.Value : null;

    public IEnumerable<FieldSelection> ChildrenNamed(string name) => Children.Where(c => c.Name == name);
}
