using WorkflowGraph.SchemaBinding;

namespace WorkflowGraph.Exports;

/// <summary>Exports of runs to files: the request, its progress and (outside GraphQL) the worker and the download.</summary>
public sealed class ExportsFeature : IGraphFeature
{
    public void Register(GraphModel model) => ExportJobs.Register(model);
}
