using WorkflowGraph.SchemaBinding;

namespace WorkflowGraph.Phi;

/// <summary>PHI governance: the organisation's classification rules, their query and the admins' mutations.</summary>
public sealed class PhiFeature : IGraphFeature
{
    public void Register(GraphModel model)
    {
        PhiGraph.Register(model);
        PhiMutations.Register(model);
    }
}
