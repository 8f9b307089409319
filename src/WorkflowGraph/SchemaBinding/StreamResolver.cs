using GraphQL;

namespace WorkflowGraph.SchemaBinding;

/// <summary>Starts one subscription field's stream (validated arguments in, an observable of finished JSON out).</summary>
public delegate IObservable<object?> StreamResolver(IResolveFieldContext context);
