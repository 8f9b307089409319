using GraphQL.Execution;
using GraphQL.Types;
using GraphQLParser.AST;
using WorkflowGraph.Querying;

namespace WorkflowGraph.Execution;

/// <summary>A finished subtree: a JSON object, a list of them, or null.</summary>
public sealed class RawJsonExecutionNode(
    ExecutionNode parent, IGraphType graphType, GraphQLField field, FieldType fieldDefinition, int? indexInParentNode)
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
