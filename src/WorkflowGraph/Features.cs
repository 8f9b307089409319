using WorkflowGraph.Analytics;
using WorkflowGraph.Configs;
using WorkflowGraph.Exports;
using WorkflowGraph.Phi;
using WorkflowGraph.SchemaBinding;
using WorkflowGraph.Traces;
using WorkflowGraph.Workflows;

namespace WorkflowGraph;

/// <summary>
/// The features this service serves, in registration order: a feature's mutations use its own entity maps and those
/// of the features before it (runs take workflow and node ids).
/// </summary>
public static class Features
{
    public static IReadOnlyList<IGraphFeature> All { get; } =
        [new WorkflowsFeature(), new TracesFeature(), new ConfigsFeature(), new AnalyticsFeature(), new PhiFeature(), new ExportsFeature()];
}
