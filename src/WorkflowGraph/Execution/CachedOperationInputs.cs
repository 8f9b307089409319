using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using GraphQL;
using GraphQL.Execution;
using GraphQL.Types;
using GraphQL.Validation;
using GraphQLParser;
using GraphQLParser.AST;

namespace WorkflowGraph.Execution;

/// <summary>
/// What GraphQL.NET's validator still does for a cached document on every request, without its two walks of the
/// document. The engine coerces the request's variables after finding the operation's variable usages with a
/// type-tracking walk, and then reads every field's arguments and every node's directives with a second walk
/// (<c>DocumentValidator.ParseArgumentVisitor</c>). Both depend on the document alone except for the values, so for a
/// cached operation:
/// <list type="bullet">
/// <item>the nodes the second walk would read are listed once, in its order, with their field definitions
/// (<see cref="OperationInputs.Plan"/>);</item>
/// <item>the variables are coerced by the engine's own <see cref="ValidationContext.GetVariablesValuesAsync"/> on a
/// validation context kept with the operation, which keeps the usages it found the first time.</item>
/// </list>
/// Per request, the engine's public <see cref="ExecutionHelper.GetArguments"/> and <see cref="ExecutionHelper.GetDirectives"/>
/// read the values of the listed nodes; errors are the engine's, in its order.
/// </summary>
public static class CachedOperationInputs
{
    private static readonly ConditionalWeakTable<GraphQLOperationDefinition, OperationInputs> Operations = new();

    /// <summary>The variables, argument values and directive values of the request, as the engine's validator gives them.</summary>
    public static async Task<IValidationResult> ReadAsync(ValidationOptions options)
    {
        var operation = options.Operation;
        var inputs = Operations.GetValue(operation, _ => new OperationInputs(options.Schema, options.Document, operation));
        var variables = Variables.None;
        if (operation.Variables?.Count > 0)
        {
            List<ValidationError>? variableErrors;
            (variables, variableErrors) = await inputs.CoerceVariablesAsync(options);
            if (variableErrors is not null)
                return new ValidationResult(variableErrors) { Variables = variables };
        }

        Dictionary<GraphQLField, IDictionary<string, ArgumentValue>>? arguments = null;
        Dictionary<ASTNode, IDictionary<string, DirectiveInfo>>? directives = null;
        List<ValidationError>? errors = null;
        foreach (var (node, field) in inputs.Plan)
        {
            if (node is IHasDirectivesNode { Directives.Count: > 0 } directed)
            {
                try
                {
                    if (ExecutionHelper.GetDirectives(directed, variables, options.Schema, options.Document) is { } values)
                        (directives ??= []).Add(node, values);
                }
                catch (ValidationError error)
                {
                    (errors ??= []).Add(error);
                }
            }
            if (field is not null && node is GraphQLField { Arguments.Count: > 0 } selected)
            {
                try
                {
                    if (ExecutionHelper.GetArguments(field.Arguments, selected.Arguments, variables, options.Document, selected, null) is
                        { } values)
                        (arguments ??= []).Add(selected, values);
                }
                catch (ValidationError error)
                {
                    (errors ??= []).Add(error);
                }
            }
        }
        return new ValidationResult(errors ?? [])
        {
            Variables = variables,
            ArgumentValues = arguments,
            DirectiveValues = directives,
        };
    }

    /// <summary>One cached operation: the nodes whose arguments or directives are read, and contexts that coerce variables.</summary>
    internal sealed class OperationInputs
    {
        // a context per request in flight; more than this many at once make their own and drop them afterwards
        private const int KeptContexts = 16;

        private readonly ConcurrentBag<ValidationContext> _contexts = [];
        private readonly ISchema _schema;
        private readonly GraphQLDocument _document;
        private readonly GraphQLOperationDefinition _operation;

        public OperationInputs(ISchema schema, GraphQLDocument document, GraphQLOperationDefinition operation)
        {
            (_schema, _document, _operation) = (schema, document, operation);
            Plan = new PlanWalk(schema, document).Walk(operation);
        }

        /// <summary>
        /// In the engine's order: each node with directives, and each field with arguments (with its definition); a
        /// field with both is one entry, its directives read first.
        /// </summary>
        public IReadOnlyList<(ASTNode Node, FieldType? Field)> Plan { get; }

        public async Task<(Variables Variables, List<ValidationError>? Errors)> CoerceVariablesAsync(ValidationOptions options)
        {
            if (!_contexts.TryTake(out var context))
                context = new ValidationContext { Schema = _schema, Document = _document, Operation = _operation };
            context.Variables = options.Variables;
            context.Extensions = options.Extensions;
            context.UserContext = options.UserContext;
            context.Metrics = options.Metrics;
            context.RequestServices = options.RequestServices;
            context.User = options.User;
            context.CancellationToken = options.CancellationToken;
            try
            {
                return await context.GetVariablesValuesAsync();
            }
            finally
            {
                // nothing of the request stays with the kept context
                context.Variables = Inputs.Empty;
                context.Extensions = Inputs.Empty;
                context.UserContext = null!;
                context.Metrics = null!;
                context.RequestServices = null;
                context.User = null;
                context.CancellationToken = default;
                if (!context.HasErrors && _contexts.Count < KeptContexts)
                    _contexts.Add(context);
            }
        }
    }

    /// <summary>
    /// The engine's argument walk once, recording instead of reading: the selected operation, each fragment the first
    /// time it is spread, the type each selection is read against (an abstract type's selections against the enclosing
    /// type, as the engine does).
    /// </summary>
    private sealed class PlanWalk(ISchema schema, GraphQLDocument document)
    {
        private readonly List<(ASTNode, FieldType?)> _plan = [];
        private readonly HashSet<ROM> _fragments = [];

        public List<(ASTNode, FieldType?)> Walk(GraphQLOperationDefinition operation)
        {
            Directives(operation);
            var root = operation.Operation switch
            {
                OperationType.Query => schema.Query,
                OperationType.Mutation => schema.Mutation,
                OperationType.Subscription => schema.Subscription,
                _ => null,
            };
            if (root is null)
                return _plan;
            foreach (var variable in operation.Variables?.Items ?? [])
                Directives(variable);
            SelectionSet(operation.SelectionSet, root);
            return _plan;
        }

        private void Directives(ASTNode node)
        {
            if (node is IHasDirectivesNode { Directives.Count: > 0 })
                _plan.Add((node, null));
        }

        private void SelectionSet(GraphQLSelectionSet? set, IComplexGraphType? type)
        {
            foreach (var selection in set?.Selections ?? [])
            {
                switch (selection)
                {
                    case GraphQLField field:
                        Field(field, type);
                        break;
                    case GraphQLFragmentSpread spread:
                        Directives(spread);
                        if (_fragments.Add(spread.FragmentName.Name.Value) &&
                            document.FindFragmentDefinition(spread.FragmentName.Name.Value) is { } definition)
                        {
                            Directives(definition);
                            Conditional(definition.TypeCondition, definition.SelectionSet, type);
                        }
                        break;
                    case GraphQLInlineFragment inline:
                        Directives(inline);
                        if (inline.TypeCondition is null)
                            SelectionSet(inline.SelectionSet, type);
                        else
                            Conditional(inline.TypeCondition, inline.SelectionSet, type);
                        break;
                }
            }
        }

        private void Conditional(GraphQLTypeCondition condition, GraphQLSelectionSet set, IComplexGraphType? enclosing)
        {
            var named = schema.AllTypes[condition.Type.Name.Value]?.GetNamedType();
            if (named is IComplexGraphType complex)
                SelectionSet(set, complex);
            else if (named is IAbstractGraphType)
                SelectionSet(set, enclosing);
        }

        private void Field(GraphQLField field, IComplexGraphType? type)
        {
            var name = field.Name.Value;
            var definition =
                name == schema.TypeMetaFieldType.Name ? schema.TypeMetaFieldType :
                name == schema.TypeNameMetaFieldType.Name ? schema.TypeNameMetaFieldType :
                name == schema.SchemaMetaFieldType.Name ? schema.SchemaMetaFieldType :
                type?.Fields.Find(name);
            var hasArguments = definition is not null && field.Arguments?.Count > 0;
            if (hasArguments)
                _plan.Add((field, definition));
            else
                Directives(field);
            if (definition is null)
                return;
            var fieldType = definition.ResolvedType?.GetNamedType();
            if (fieldType is IComplexGraphType complex)
                SelectionSet(field.SelectionSet, complex);
            else if (fieldType is UnionGraphType)
                SelectionSet(field.SelectionSet, type);
        }
    }
}
