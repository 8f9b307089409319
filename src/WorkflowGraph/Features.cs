using WorkflowGraph.Analytics;
using WorkflowGraph.Configs;
using WorkflowGraph.SchemaBinding;
using WorkflowGraph.Traces;
using WorkflowGraph.Workflows;

namespace WorkflowGraph;

/// <summary>The features this service serves, in registration order (a feature's mutations use its own entity maps).</summary>
public static class Features
{
    public static IReadOnlyList<IGraphFeature> All { get; } =
        [new TracesFeature(), new WorkflowsFeature(), new ConfigsFeature(), new AnalyticsFeature()];
}
