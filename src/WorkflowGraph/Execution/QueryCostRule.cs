using System.Runtime.CompilerServices;
using GraphQL;
using GraphQL.Types;
using GraphQL.Validation;
using GraphQLParser;
using GraphQLParser.AST;
using WorkflowGraph.Querying;

namespace WorkflowGraph.Execution;

/// <summary>
/// Refuses operations that are too deep or too costly before anything runs, and before the other rules walk the
/// document (it is the first rule). Cost: every field costs 1 (<c>__typename</c> too), and the selection of a connection
/// or list costs once per row it may return (<c>first</c>/<c>last</c>, else the default page size for connections and
/// <see cref="QueryLimits.AssumedListSize"/> for navigation lists). A subscription's selection is built for every event,
/// so it has a limit of its own (<see cref="QueryLimits.MaxSubscriptionComplexity"/>).
/// <para>
/// The work is bounded by the document's size, not by what it expands to: a fragment is measured once per type it is
/// spread on and its measure reused (a fragment spreading the previous one twice, 30 levels deep, costs 30 walks, not
/// 2^30). Introspection (<c>__schema</c>, <c>__type</c>) costs <see cref="QueryLimits.IntrospectionCost"/> each, so
/// aliases cannot multiply it for free; its depth is not counted (tools send deep <c>ofType</c> chains), but its
/// recursive lists (<c>fields</c>, <c>inputFields</c>, <c>interfaces</c>, <c>possibleTypes</c>) may nest at most
/// <see cref="MaxIntrospectionListDepth"/> deep, which bounds what one introspection field can return.
/// </para>
/// </summary>
public sealed class QueryCostRule(QueryLimits limits) : ValidationRuleBase
{
    public const int MaxIntrospectionListDepth = 2;

    private static readonly HashSet<string> RecursiveIntrospectionLists =
        new(["fields", "inputFields", "interfaces", "possibleTypes"], StringComparer.Ordinal);

    private readonly ConditionalWeakTable<GraphQLOperationDefinition, StrongBox<Measure>> _constantMeasures = new();

    private QueryLimits Limits => limits;

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
        var measure = MeasureOf(context, root);
        var maxCost = operation.Operation == OperationType.Subscription ? limits.MaxSubscriptionComplexity : limits.MaxComplexity;
        var what = operation.Operation == OperationType.Subscription ? "subscription's selection" : "operation";
        var (code, message) = measure switch
        {
            { IntrospectionListDepth: > MaxIntrospectionListDepth } => ("MAX_INTROSPECTION_DEPTH_EXCEEDED",
                $"the introspection nests fields, inputFields, interfaces or possibleTypes {measure.IntrospectionListDepth} " +
                $"deep; the maximum is {MaxIntrospectionListDepth}"),
            _ when measure.Depth > limits.MaxDepth =>
                ("MAX_DEPTH_EXCEEDED", $"the operation is {measure.Depth} levels deep; the maximum is {limits.MaxDepth}"),
            _ when measure.Cost > maxCost =>
                ("MAX_COMPLEXITY_EXCEEDED", $"the {what} may cost {measure.Cost:0}; the maximum is {maxCost}"),
            _ => (null, null),
        };
        if (code is not null)
            context.ReportError(new ValidationError(message!) { Code = code });
        return default;
    }

    /// <summary>An operation's measure; kept with the operation (a cached document's is reused) when no variable went
    /// into it, since only a variable's value can change it.</summary>
    private Measure MeasureOf(ValidationContext context, IGraphType root)
    {
        var operation = context.Operation;
        if (_constantMeasures.TryGetValue(operation, out var known))
            return known.Value;
        var measurement = new Measurement(this, context);
        var measure = measurement.Of(root, operation.SelectionSet, introspection: false);
        if (!measurement.ReadVariables)
            _constantMeasures.AddOrUpdate(operation, new StrongBox<Measure>(measure));
        return measure;
    }

    /// <summary>What a selection set asks for: its depth below where it starts, its cost, and how deeply it nests
    /// introspection's recursive lists.</summary>
    private readonly record struct Measure(int Depth, double Cost, int IntrospectionListDepth)
    {
        public Measure Max(Measure other) => new(Math.Max(Depth, other.Depth), Cost + other.Cost,
            Math.Max(IntrospectionListDepth, other.IntrospectionListDepth));
    }

    /// <summary>One operation's measurement, with each fragment's measure kept once it is known.</summary>
    private sealed class Measurement(QueryCostRule rule, ValidationContext context)
    {
        private readonly Dictionary<(string Fragment, bool Introspection), Measure> _fragments = [];
        private readonly HashSet<string> _fragmentPath = new(StringComparer.Ordinal);

        /// <summary>Whether a list size came, or could have come, from a variable.</summary>
        public bool ReadVariables { get; private set; }

        public Measure Of(IGraphType parent, GraphQLSelectionSet? selectionSet, bool introspection)
        {
            var total = default(Measure);
            if (selectionSet is null || parent is not IComplexGraphType complex)
                return total;
            foreach (var selection in selectionSet.Selections)
            {
                switch (selection)
                {
                    case GraphQLField field:
                        total = total.Max(Field(complex, field, introspection));
                        break;
                    case GraphQLInlineFragment inline:
                        var type = inline.TypeCondition is { } condition
                            ? context.Schema.AllTypes[condition.Type.Name.StringValue] ?? parent
                            : parent;
                        total = total.Max(Of(type, inline.SelectionSet, introspection));
                        break;
                    case GraphQLFragmentSpread spread:
                        total = total.Max(Fragment(parent, spread, introspection));
                        break;
                }
            }
            return total;
        }

        private Measure Fragment(IGraphType parent, GraphQLFragmentSpread spread, bool introspection)
        {
            var name = spread.FragmentName.Name.StringValue;
            var key = (name, introspection);
            if (_fragments.TryGetValue(key, out var known))
                return known;
            var fragment = context.Document.FindFragmentDefinition(spread.FragmentName.Name);
            if (fragment is null || !_fragmentPath.Add(name))
                return default; // unknown or cyclic fragments are reported by the standard rules
            context.CancellationToken.ThrowIfCancellationRequested();
            var type = context.Schema.AllTypes[fragment.TypeCondition.Type.Name.StringValue] ?? parent;
            var measure = Of(type, fragment.SelectionSet, introspection);
            _fragmentPath.Remove(name);
            _fragments[key] = measure;
            return measure;
        }

        private Measure Field(IComplexGraphType parent, GraphQLField field, bool introspection)
        {
            var name = field.Name.StringValue;
            if (name == "__typename")
                return new Measure(introspection ? 0 : 1, introspection ? 0 : 1, 0);
            if (name is "__schema" or "__type" && !introspection)
            {
                var schemaType = name == "__schema" ? context.Schema.AllTypes["__Schema"] : context.Schema.AllTypes["__Type"];
                var inner = schemaType is null ? default : Of(schemaType, field.SelectionSet, introspection: true);
                return new Measure(1, rule.Limits.IntrospectionCost, inner.IntrospectionListDepth);
            }
            var definition = parent.GetField(name);
            if (definition?.ResolvedType is null)
                return default; // unknown fields are reported by the standard rules
            var child = Of(definition.ResolvedType.GetNamedType(), field.SelectionSet, introspection);
            if (introspection)
                return child with
                {
                    IntrospectionListDepth = child.IntrospectionListDepth + (RecursiveIntrospectionLists.Contains(name) ? 1 : 0),
                };
            // a connection's nodes/edges are its page, already counted on the connection field
            var rows = parent.Name.EndsWith("Connection", StringComparison.Ordinal)
                ? 1
                : Rows(field, definition.ResolvedType);
            return new Measure(child.Depth + 1, 1 + child.Cost * rows, child.IntrospectionListDepth);
        }

        private double Rows(GraphQLField field, IGraphType type)
        {
            var unwrapped = type is NonNullGraphType nonNull ? nonNull.ResolvedType! : type;
            var isConnection = unwrapped.Name?.EndsWith("Connection", StringComparison.Ordinal) == true;
            if (!isConnection && unwrapped is not ListGraphType)
                return 1;
            foreach (var argument in field.Arguments?.Items ?? [])
            {
                if (argument.Name.StringValue is not ("first" or "last"))
                    continue;
                ReadVariables |= argument.Value is GraphQLVariable;
                var requested = argument.Value switch
                {
                    GraphQLIntValue i when int.TryParse(i.Value.Span, out var n) => n,
                    GraphQLVariable v when context.Variables.TryGetValue(v.Name.StringValue, out var value) && value is int m => m,
                    _ => (int?)null,
                };
                if (requested is not null)
                    return Math.Max(requested.Value, 1);
            }
            return isConnection ? rule.Limits.DefaultPageSize : rule.Limits.AssumedListSize;
        }
    }
}
