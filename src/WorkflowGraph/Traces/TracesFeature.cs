using WorkflowGraph.SchemaBinding;

namespace WorkflowGraph.Traces;

/// <summary>Runs, steps, events and context: their queries, the execution mutations and the live subscriptions.</summary>
public sealed class TracesFeature : IGraphFeature
{
    public void Register(GraphModel model)
    {
        TraceGraph.Register(model);
        TraceMutations.Register(model);
        RunControlMutations.Register(model);
        BulkOperations.Register(model);
        TraceSubscriptions.Register(model);
    }
}
