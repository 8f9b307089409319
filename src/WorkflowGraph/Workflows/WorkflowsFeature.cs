using WorkflowGraph.Querying.Model;
using WorkflowGraph.SchemaBinding;

namespace WorkflowGraph.Workflows;

/// <summary>Workflow definitions and their nodes.</summary>
public sealed class WorkflowsFeature : IGraphFeature
{
    public void Register(GraphModel model)
    {
        var workflow = new EntityMap
        {
            TypeName = "Workflow",
            JsonMasks = new Dictionary<string, PhiMask> { ["config"] = PhiMask.Config },
            Relation = "workflows",
            Key = ["id"],
            DefaultOrder = [new("name", Descending: false)],
            Relations =
            [
                new("nodes", "WorkflowNode", RelationKind.Many, [("id", "workflow_id")], [new("position", false)]),
                new("traces", "WorkflowTrace", RelationKind.Many, [("id", "workflow_id")]),
                new("configs", "WorkflowConfig", RelationKind.Many, [("id", "workflow_id")]),
                new("channelConfigs", "WorkflowChannelConfig", RelationKind.Many, [("id", "workflow_id")]),
            ],
        };
        var node = new EntityMap
        {
            TypeName = "WorkflowNode",
            Relation = "workflow_nodes",
            Key = ["id"],
            DefaultOrder = [new("id", Descending: false)],
            Relations =
            [
                new("workflow", "Workflow", RelationKind.One, [("workflow_id", "id")]),
                new("ioRequirements", "NodeIoRequirement", RelationKind.Many, [("id", "node_id")]),
            ],
        };
        model.Entities(workflow, node)
            .Connection("workflows", workflow)
            .ByKey("workflow", workflow, "id");
    }
}
