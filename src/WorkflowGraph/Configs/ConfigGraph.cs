using NpgsqlTypes;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.SchemaBinding;

namespace WorkflowGraph.Configs;

/// <summary>Versioned configurations, channel settings, node contracts, data bindings and activation records.</summary>
public static class ConfigGraph
{
    public static void Register(GraphModel model)
    {
        var workflowConfig = new EntityMap
        {
            TypeName = "WorkflowConfig",
            JsonMasks = new Dictionary<string, PhiMask> { ["config"] = PhiMask.Config },
            Relation = "workflow_configs",
            Key = ["id"],
            DefaultOrder = [new("created_at", Descending: true)],
            Relations = [new("workflow", "Workflow", RelationKind.Optional, [("workflow_id", "id")])],
        };
        var channelConfig = new EntityMap
        {
            TypeName = "ChannelConfig",
            JsonMasks = new Dictionary<string, PhiMask> { ["config"] = PhiMask.Config },
            Relation = "channel_configs",
            Key = ["id"],
            DefaultOrder = [new("channel", Descending: false)],
        };
        var workflowChannelConfig = new EntityMap
        {
            TypeName = "WorkflowChannelConfig",
            JsonMasks = new Dictionary<string, PhiMask> { ["settings"] = PhiMask.Config },
            Relation = "workflow_channel_configs",
            Key = ["id"],
            DefaultOrder = [new("priority", Descending: false)],
            Relations = [new("workflow", "Workflow", RelationKind.One, [("workflow_id", "id")])],
        };
        var ioRequirement = new EntityMap
        {
            TypeName = "NodeIoRequirement",
            // the contract itself, written by admins: no patient data
            JsonMasks = new Dictionary<string, PhiMask>
            {
                ["defaultValue"] = PhiMask.NotSensitive,
                ["validationRules"] = PhiMask.NotSensitive,
            },
            Relation = "node_io_requirements",
            Key = ["id"],
            DefaultOrder = [new("field_name", Descending: false)],
            Relations = [new("node", "WorkflowNode", RelationKind.One, [("node_id", "id")])],
        };
        var binding = new EntityMap
        {
            TypeName = "WorkflowDataBinding",
            JsonMasks = new Dictionary<string, PhiMask> { ["transformConfig"] = PhiMask.NotSensitive },
            Relation = "workflow_data_bindings",
            Key = ["id"],
            DefaultOrder = [new("created_at", Descending: false)],
            Relations =
            [
                new("workflow", "Workflow", RelationKind.One, [("workflow_id", "id")]),
                new("sourceNode", "WorkflowNode", RelationKind.Optional, [("source_node_id", "id")]),
                new("targetNode", "WorkflowNode", RelationKind.One, [("target_node_id", "id")]),
            ],
        };
        var status = new EntityMap
        {
            TypeName = "ConfigStatus",
            Relation = "config_status",
            Key = ["id"],
            DefaultOrder = [new("id", Descending: true)],
        };

        var workflow = model.Catalog.Get("Workflow");
        model.Entities(workflowConfig, channelConfig, workflowChannelConfig, ioRequirement, binding, status)
            .Connection("workflowConfigs", workflowConfig)
            .Connection("channelConfigs", channelConfig)
            .Connection("workflowChannelConfigs", workflowChannelConfig)
            .Connection("nodeIoRequirements", ioRequirement)
            .Connection("workflowDataBindings", binding)
            .Connection("configStatuses", status)
            .Function("activeWorkflowConfig", workflowConfig, (field, scope) =>
                Sql.Of($"get_active_workflow_config(" +
                       $"{scope.Parameter(GlobalId.Decode(field.Argument("workflowId"), workflow), NpgsqlDbType.Uuid)}, " +
                       $"{scope.EnumParameter(field.Argument("channel"))}::workflow_channel)"),
                list: false);
    }
}
