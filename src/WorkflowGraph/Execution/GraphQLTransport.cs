using GraphQL;

namespace WorkflowGraph.Execution;

/// <summary>Where an operation arrived: each transport runs the operation types it can carry.</summary>
public enum GraphQLTransport
{
    /// <summary>Queries only (GraphQL over HTTP never runs a mutation on GET).</summary>
    HttpGet,
    /// <summary>Queries and mutations; a subscription needs a stream, so it is refused.</summary>
    HttpPost,
    /// <summary>Everything; a subscription's result carries its stream in <see cref="ExecutionResult.Streams"/>.</summary>
    WebSocket,
}
