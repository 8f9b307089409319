using GraphQL.Validation;
using GraphQLParser.AST;

namespace WorkflowGraph.Execution;

/// <summary>
/// The operation types a transport carries: GET only reads (GraphQL over HTTP never runs a mutation on GET), and a
/// subscription needs the WebSocket transport.
/// </summary>
public sealed class OperationTypeRule(GraphQLTransport transport, params OperationType[] allowed) : ValidationRuleBase
{
    public const string MutationNotAllowed = "MUTATION_NOT_ALLOWED";
    public const string SubscriptionNotAllowed = "SUBSCRIPTION_NOT_ALLOWED";

    public override ValueTask<INodeVisitor?> GetPreNodeVisitorAsync(ValidationContext context)
    {
        var operation = context.Operation.Operation;
        if (allowed.Contains(operation))
            return default;
        var name = operation.ToString().ToLowerInvariant();
        var over = transport == GraphQLTransport.HttpGet ? "GET; use POST" : transport.ToString();
        context.ReportError(operation == OperationType.Subscription
            ? new ValidationError("subscription operations need the WebSocket transport (graphql-transport-ws) on this endpoint")
            {
                Code = SubscriptionNotAllowed,
            }
            : new ValidationError($"{name} operations are not allowed over {over}") { Code = MutationNotAllowed });
        return default;
    }
}
