namespace WorkflowGraph.SchemaBinding;

/// <summary>
/// One feature of the API (runs, workflows, configuration, analytics): it registers its entity maps, root fields,
/// mutations and subscriptions into the <see cref="GraphModel"/>. The engine knows no feature; the composition root
/// (<see cref="Features"/>) lists them.
/// </summary>
public interface IGraphFeature
{
    void Register(GraphModel model);
}
