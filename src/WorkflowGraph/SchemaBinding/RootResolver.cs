using GraphQL;
using WorkflowGraph.Database;

namespace WorkflowGraph.SchemaBinding;

/// <summary>Answers one root field; the request's database session is passed in.</summary>
public delegate Task<object?> RootResolver(IResolveFieldContext context, RequestDatabase database);
