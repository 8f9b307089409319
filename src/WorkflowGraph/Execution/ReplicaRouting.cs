using GraphQL.Execution;
using GraphQLParser.AST;
using WorkflowGraph.Database;

namespace WorkflowGraph.Execution;

/// <summary>
/// Once the operation is known and valid, and before any resolver runs: a query's transaction may go to the read
/// replica; a mutation's (which reads back what it wrote) and a subscription's setup stay on the primary.
/// </summary>
internal sealed class ReplicaRouting : DocumentExecutionListenerBase
{
    public static readonly ReplicaRouting Instance = new();

    public override Task BeforeExecutionAsync(IExecutionContext context)
    {
        if (context.Operation.Operation == OperationType.Query)
            context.RequestServices!.GetRequiredService<RequestDatabase>().ReadsOnly = true;
        return Task.CompletedTask;
    }
}
