using GraphQL;
using GraphQL.Types;
using GraphQL.Validation;
using GraphQLParser;
using GraphQLParser.AST;
using WorkflowGraph.Querying;

namespace WorkflowGraph.Execution;

/// <summary>
/// Refuses operations that are too deep or too costly before anything runs. Introspection (<c>__schema</c>,
/// <c>__type</c>) is not counted, so tools can always load the schema. Cost: every field costs 1, and the
/// selection of a connection or list costs once per row it may return (<c>first</c>/<c>last</c>, else the
/// default page size for connections and <see cref="QueryLimits.AssumedListSize"/> for navigation lists).
/// </summary>
public sealed class QueryCostRule(QueryLimits limits) : ValidationRuleBase
{
    public override ValueTask<INodeVisitor?> GetPreNodeVisitorAsync(ValidationContext context)
    {
        var operation = context.Operation;
        var root = operation.Operation switch
        {
            OperationType.Mutation => context.Schema.Mutation,
            OperationType.Subscription => context.Schema.Subscription,
            _ => context.Schema.Query,
        };
        if (root is null)
            return default;
        var (depth, cost) = Measure(context, root, operation.SelectionSet, 0, []);
        if (depth > limits.MaxDepth)
            context.ReportError(new ValidationError($"the operation is {depth} levels deep; the maximum is {limits.MaxDepth}")
            {
                Code = "MAX_DEPTH_EXCEEDED",
            });
        else if (cost > limits.MaxComplexity)
            context.ReportError(new ValidationError($"the operation may cost {cost:0}; the maximum is {limits.MaxComplexity}")
            {
                Code = "MAX_COMPLEXITY_EXCEEDED",
            });
        return default;
    }

    private (int Depth, double Cost) Measure(ValidationContext context, IGraphType parent, GraphQLSelectionSet? selectionSet,
        int level, HashSet<string> fragmentPath)
    {
        if (selectionSet is null || parent is not IComplexGraphType complex)
            return (level, 0);
        var depth = level;
        double cost = 0;
        foreach (var selection in selectionSet.Selections)
        {
            switch (selection)
            {
                case GraphQLField field:
                    var name = field.Name.StringValue;
                    if (name.StartsWith("__", StringComparison.Ordinal))
                        continue;
                    var definition = complex.GetField(name);
                    if (definition?.ResolvedType is null)
                        continue; // unknown fields are reported by the standard rules
                    var (childDepth, childCost) =
                        Measure(context, definition.ResolvedType.GetNamedType(), field.SelectionSet, level + 1, fragmentPath);
                    depth = Math.Max(depth, childDepth);
                    // a connection's nodes/edges are its page, already counted on the connection field
                    var rows = complex.Name.EndsWith("Connection", StringComparison.Ordinal)
                        ? 1
                        : Rows(context, field, definition.ResolvedType);
                    cost += 1 + childCost * rows;
                    break;
                case GraphQLInlineFragment inline:
                    Add(Measure(context, parent, inline.SelectionSet, level, fragmentPath));
                    break;
                case GraphQLFragmentSpread spread:
                    var fragmentName = spread.FragmentName.Name.StringValue;
                    var fragment = context.Document.FindFragmentDefinition(spread.FragmentName.Name);
                    if (fragment is null || !fragmentPath.Add(fragmentName))
                        continue; // unknown or cyclic fragments are reported by the standard rules
                    Add(Measure(context, parent, fragment.SelectionSet, level, fragmentPath));
                    fragmentPath.Remove(fragmentName);
                    break;
            }
        }
        return (depth, cost);

        void Add((int Depth, double Cost) part)
        {
            depth = Math.Max(depth, part.Depth);
            cost += part.Cost;
        }
    }

    private double Rows(ValidationContext context, GraphQLField field, IGraphType type)
    {
        var unwrapped = type is NonNullGraphType nonNull ? nonNull.ResolvedType! : type;
        var isConnection = unwrapped.Name?.EndsWith("Connection", StringComparison.Ordinal) == true;
        if (!isConnection && unwrapped is not ListGraphType)
            return 1;
        foreach (var argument in field.Arguments?.Items ?? [])
        {
            if (argument.Name.StringValue is not ("first" or "last"))
                continue;
            var requested = argument.Value switch
            {
                GraphQLIntValue i when int.TryParse(i.Value.Span, out var n) => n,
                GraphQLVariable v when context.Variables.TryGetValue(v.Name.StringValue, out var value) && value is int m => m,
                _ => (int?)null,
            };
            if (requested is not null)
                return Math.Max(requested.Value, 1);
        }
        return isConnection ? limits.DefaultPageSize : limits.AssumedListSize;
    }
}
