using GraphQL;
using GraphQL.Execution;
using GraphQL.Types;
using GraphQLParser;
using GraphQLParser.AST;

namespace WorkflowGraph.Querying.Selection;

/// <summary>
/// Reads a resolver's field with its whole subtree into <see cref="FieldSelection"/>s: fragments expanded,
/// <c>@skip</c>/<c>@include</c> applied, repeated response keys merged.
/// </summary>
public static class SelectionReader
{
    /// <summary>
    /// The current field of <paramref name="context"/> with its whole subtree; a field of an interface type
    /// (<c>node</c>) is read as the object type <paramref name="concrete"/>, with the fragments that apply to it.
    /// </summary>
    public static FieldSelection Read(IResolveFieldContext context, IObjectGraphType? concrete = null)
    {
        var root = new FieldSelection(context.FieldAst.Alias?.Name.StringValue ?? context.FieldDefinition.Name,
            context.FieldDefinition, context.Arguments);
        root.Nodes.Add(context.FieldAst);
        root.Children = ReadChildren(context.ExecutionContext, context.Document, root, concrete);
        return root;
    }

    private static List<FieldSelection> ReadChildren(IExecutionContext execution, GraphQLDocument document, FieldSelection parent,
        IComplexGraphType? concrete = null)
    {
        if ((concrete ?? parent.Definition?.ResolvedType?.GetNamedType()) is not IComplexGraphType type)
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
                case GraphQLInlineFragment inline when AppliesTo(execution, inline.TypeCondition, type):
                    Collect(execution, document, type, inline.SelectionSet, byKey, order);
                    break;
                case GraphQLFragmentSpread spread:
                    var fragment = document.FindFragmentDefinition(spread.FragmentName.Name);
                    if (fragment is not null && AppliesTo(execution, fragment.TypeCondition, type))
                        Collect(execution, document, type, fragment.SelectionSet, byKey, order);
                    break;
            }
        }
    }

    /// <summary>A fragment on the type itself, on an interface it implements or on a union it belongs to.</summary>
    private static bool AppliesTo(IExecutionContext execution, GraphQLTypeCondition? condition, IComplexGraphType type)
    {
        if (condition is null)
            return true;
        var name = condition.Type.Name.StringValue;
        return name == type.Name
            || type is IObjectGraphType obj && (obj.ResolvedInterfaces.Any(i => i.Name == name)
                || execution.Schema.AllTypes[name] is UnionGraphType union && union.PossibleTypes.Contains(obj));
    }

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
