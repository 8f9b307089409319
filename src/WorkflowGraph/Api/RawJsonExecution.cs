using WorkflowGraph.Querying;
using GraphQL;
using GraphQL.Execution;
using GraphQL.Resolvers;
using GraphQL.Types;
using GraphQLParser.AST;

namespace WorkflowGraph.Api;

/// <summary>
/// Marks a resolver whose value is already the exact response JSON of its whole subtree: PostgreSQL built it for
/// this selection (response keys, enum names, __typename, nested lists). Executing the subtree field by field
/// would only copy it; the engine writes it as it is.
/// </summary>
public sealed class RawJsonResolver(IFieldResolver inner) : IFieldResolver
{
    public ValueTask<object?> ResolveAsync(IResolveFieldContext context) => inner.ResolveAsync(context);
}

/// <summary>A finished subtree: a JSON object, a list of them, or null.</summary>
public sealed class RawJsonExecutionNode(ExecutionNode parent, IGraphType graphType, GraphQLField field, FieldType fieldDefinition, int? indexInParentNode)
    : ExecutionNode(parent, graphType, field, fieldDefinition, indexInParentNode)
{
    public override object? ToValue() => Result switch
    {
        null => null,
        RawJson json => json,
        IReadOnlyList<RawJson> list => list,
        _ => throw new InvalidOperationException($"{Name} resolved to {Result.GetType().Name}, not JSON"),
    };
}

public sealed class RawJsonParallelExecutionStrategy : ParallelExecutionStrategy
{
    protected override ExecutionNode BuildExecutionNode(ExecutionNode parent, IGraphType graphType, GraphQLField field, FieldType fieldDefinition, int? indexInParentNode = null) =>
        fieldDefinition.Resolver is RawJsonResolver
            ? new RawJsonExecutionNode(parent, graphType, field, fieldDefinition, indexInParentNode)
            : base.BuildExecutionNode(parent, graphType, field, fieldDefinition, indexInParentNode);
}

public sealed class RawJsonSerialExecutionStrategy : SerialExecutionStrategy
{
    protected override ExecutionNode BuildExecutionNode(ExecutionNode parent, IGraphType graphType, GraphQLField field, FieldType fieldDefinition, int? indexInParentNode = null) =>
        fieldDefinition.Resolver is RawJsonResolver
            ? new RawJsonExecutionNode(parent, graphType, field, fieldDefinition, indexInParentNode)
            : base.BuildExecutionNode(parent, graphType, field, fieldDefinition, indexInParentNode);
}
