using GraphQL;
using GraphQL.Execution;
using GraphQL.Types;
using GraphQLParser;
using GraphQLParser.AST;

namespace WorkflowGraph.Querying.Selection;

/// <summary>
/// One field of a selection set with its coerced arguments and, for object fields, its own selection — fragments
/// expanded, @skip/@include applied, repeated response keys merged — so a whole subtree compiles to one SQL.
/// </summary>
public sealed class FieldSelection(string responseKey, FieldType? definition, IDictionary<string, ArgumentValue>? arguments, string? metaName = null)
{
    public const string Typename = "__typename";

    public string ResponseKey { get; } = responseKey;

    /// <summary>Null for <c>__typename</c>, which every object answers with its type's name.</summary>
    public FieldType? Definition { get; } = definition;
    public string Name => Definition?.Name ?? metaName!;
    public List<GraphQLField> Nodes { get; } = [];
    public IReadOnlyList<FieldSelection> Children { get; internal set; } = [];

    public object? Argument(string name) =>
        arguments is not null && arguments.TryGetValue(name, out var value) ? value.Value : null;

    public bool HasArgument(string name) =>
        arguments is not null && arguments.TryGetValue(name, out var value) && value.Source != ArgumentSource.FieldDefault;

    public FieldSelection? Child(string name) => Children.FirstOrDefault(c => c.Name == name);

    public IEnumerable<FieldSelection> ChildrenNamed(string name) => Children.Where(c => c.Name == name);
}

public static class SelectionReader
{
    /// <summary>The current field of <paramref name="context"/> with its whole subtree.</summary>
    public static FieldSelection Read(IResolveFieldContext context)
    {
        var root = new FieldSelection(context.FieldAst.Alias?.Name.StringValue ?? context.FieldDefinition.Name,
            context.FieldDefinition, context.Arguments);
        root.Nodes.Add(context.FieldAst);
        root.Children = ReadChildren(context.ExecutionContext, context.Document, root);
        return root;
    }

    private static List<FieldSelection> ReadChildren(IExecutionContext execution, GraphQLDocument document, FieldSelection parent)
    {
        if (parent.Definition?.ResolvedType?.GetNamedType() is not IComplexGraphType type)
            return [];
        var byKey = new Dictionary<string, FieldSelection>();
        var order = new List<FieldSelection>();
        foreach (var node in parent.Nodes)
            if (node.SelectionSet is not null)
                Collect(execution, document, type, node.SelectionSet, byKey, order);
        foreach (var child in order)
            child.Children = ReadChildren(execution, document, child);
        return order;
    }

    private static void Collect(IExecutionContext execution, GraphQLDocument document, IComplexGraphType type,
        GraphQLSelectionSet selectionSet, Dictionary<string, FieldSelection> byKey, List<FieldSelection> order)
    {
        foreach (var selection in selectionSet.Selections)
        {
            if (!Included(execution, selection))
                continue;
            switch (selection)
            {
                case GraphQLField field:
                    var name = field.Name.StringValue;
                    var definition = type.GetField(name);
                    if (definition is null && name != FieldSelection.Typename)
                        continue; // other meta fields (__schema, __type) only exist on Query
                    var key = field.Alias?.Name.StringValue ?? name;
                    if (!byKey.TryGetValue(key, out var existing))
                    {
                        existing = definition is null
                            ? new FieldSelection(key, null, null, FieldSelection.Typename)
                            : new FieldSelection(key, definition, execution.GetArguments(definition, field));
                        byKey[key] = existing;
                        order.Add(existing);
                    }
                    existing.Nodes.Add(field);
                    break;
                case GraphQLInlineFragment inline when AppliesTo(inline.TypeCondition, type):
                    Collect(execution, document, type, inline.SelectionSet, byKey, order);
                    break;
                case GraphQLFragmentSpread spread:
                    var fragment = document.FindFragmentDefinition(spread.FragmentName.Name);
                    if (fragment is not null && AppliesTo(fragment.TypeCondition, type))
                        Collect(execution, document, type, fragment.SelectionSet, byKey, order);
                    break;
            }
        }
    }

    private static bool AppliesTo(GraphQLTypeCondition? condition, IComplexGraphType type) =>
        condition is null || condition.Type.Name.StringValue == type.Name;

    private static bool Included(IExecutionContext execution, ASTNode node)
    {
        var directives = execution.GetDirectives(node);
        if (directives is null)
            return true;
        if (directives.TryGetValue("skip", out var skip) && skip.GetArgument("if", false))
            return false;
        return !directives.TryGetValue("include", out var include) || include.GetArgument("if", true);
    }
}
