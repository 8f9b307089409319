using GraphQL.Execution;
using GraphQL.Types;
using GraphQLParser.AST;
using WorkflowGraph.SchemaBinding;

namespace WorkflowGraph.Execution;

/// <summary>
/// Queries run in parallel; a field whose resolver gives finished JSON (<see cref="RawJsonResolver"/>) is written as
/// it is.
/// </summary>
public sealed class RawJsonParallelExecutionStrategy : ParallelExecutionStrategy
{
    protected override ExecutionNode BuildExecutionNode(
        ExecutionNode parent, IGraphType graphType, GraphQLField field, FieldType fieldDefinition, int? indexInParentNode = null) =>
        fieldDefinition.Resolver is RawJsonResolver
            ? new RawJsonExecutionNode(parent, graphType, field, fieldDefinition, indexInParentNode)
            : base.BuildExecutionNode(parent, graphType, field, fieldDefinition, indexInParentNode);
}

/// <summary>Mutations run one after another, with the same finished-JSON fields.</summary>
public sealed class RawJsonSerialExecutionStrategy : SerialExecutionStrategy
{
    protected override ExecutionNode BuildExecutionNode(
        ExecutionNode parent, IGraphType graphType, GraphQLField field, FieldType fieldDefinition, int? indexInParentNode = null) =>
        fieldDefinition.Resolver is RawJsonResolver
            ? new RawJsonExecutionNode(parent, graphType, field, fieldDefinition, indexInParentNode)
            : base.BuildExecutionNode(parent, graphType, field, fieldDefinition, indexInParentNode);
}
