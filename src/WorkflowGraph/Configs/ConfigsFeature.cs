using WorkflowGraph.SchemaBinding;

namespace WorkflowGraph.Configs;

/// <summary>Configuration entities, their queries and the admins' mutations.</summary>
public sealed class ConfigsFeature : IGraphFeature
{
    public void Register(GraphModel model)
    {
        ConfigGraph.Register(model);
        ConfigMutations.Register(model);
    }
}
