using NpgsqlTypes;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Mutations;
using WorkflowGraph.SchemaBinding;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Configs;

/// <summary>The configuration mutations (admins). Rows take the caller's organisation by default (org_id).</summary>
public static class ConfigMutations
{
    public static void Register(GraphModel model)
    {
        var byUuid = MutationSpec.KeyFromWrite("id", "uuid");
        var workflow = model.Catalog.Get("Workflow");
        var node = model.Catalog.Get("WorkflowNode");
        var workflowConfig = model.Catalog.Get("WorkflowConfig");
        var channelConfig = model.Catalog.Get("ChannelConfig");
        var channelSettings = model.Catalog.Get("WorkflowChannelConfig");
        var ioRequirement = model.Catalog.Get("NodeIoRequirement");
        var binding = model.Catalog.Get("WorkflowDataBinding");

        model.Mutation(new MutationSpec("createWorkflowConfig", TenantRole.Admin,
                (input, scope) => MutationSpec.StoreKey(Sql.Of(
                    $"create_workflow_config({scope.Parameter(input.Get("workflowId"), NpgsqlDbType.Uuid)}, " +
                    $"{scope.EnumParameter(input.Get("channel"))}::workflow_channel, " +
                    $"{scope.EnumParameter(input["configType"])}::config_type, " +
                    $"{scope.Parameter(input.Get("name"), NpgsqlDbType.Text)}, " +
                    $"{scope.Parameter(input.Get("description"), NpgsqlDbType.Text)}, " +
                    $"{scope.JsonParameter(input.Get("config"))}, " +
                    $"{scope.Parameter(input.Get("activate") ?? false, NpgsqlDbType.Boolean)})")),
                "workflowConfig", workflowConfig, byUuid).WithIds(("workflowId", workflow)))
            .Mutation(new MutationSpec("activateWorkflowConfig", TenantRole.Admin,
                (input, scope) => MutationSpec.StoreKey(
                    Sql.Of($"SELECT a.id FROM activate_workflow_config({scope.Parameter(input["configId"], NpgsqlDbType.Uuid)}) a")),
                "workflowConfig", workflowConfig, byUuid).WithIds(("configId", workflowConfig)))
            .Mutation(new MutationSpec("upsertChannelConfig", TenantRole.Admin,
                (input, scope) => MutationSpec.StoreChangedId(Sql.Of(
                    $"INSERT INTO channel_configs (channel, name, config, is_active) " +
                    $"VALUES ({scope.EnumParameter(input["channel"])}, {scope.Parameter(input.Get("name"), NpgsqlDbType.Text)}, " +
                    $"{scope.JsonParameter(input.Get("config"))}, " +
                    $"{scope.Parameter(input.Get("isActive") ?? true, NpgsqlDbType.Boolean)}) " +
                    $"ON CONFLICT (org_id, channel) DO UPDATE SET name = EXCLUDED.name, config = EXCLUDED.config, " +
                    $"is_active = EXCLUDED.is_active")),
                "channelConfig", channelConfig, byUuid))
            .Mutation(new MutationSpec("setWorkflowChannelConfig", TenantRole.Admin,
                (input, scope) => MutationSpec.StoreChangedId(Sql.Of(
                    $"INSERT INTO workflow_channel_configs (workflow_id, channel, is_enabled, priority, webhook_url, settings) " +
                    $"VALUES ({scope.Parameter(input["workflowId"], NpgsqlDbType.Uuid)}, {scope.EnumParameter(input["channel"])}, " +
                    $"{scope.Parameter(input["isEnabled"], NpgsqlDbType.Boolean)}, " +
                    $"{scope.Parameter(input.Get("priority") ?? 100, NpgsqlDbType.Integer)}, " +
                    $"{scope.Parameter(input.Get("webhookUrl"), NpgsqlDbType.Text)}, " +
                    $"coalesce({scope.JsonParameter(input.Get("settings"))}, '{{}}')) " +
                    $"ON CONFLICT (workflow_id, channel) DO UPDATE SET is_enabled = EXCLUDED.is_enabled, priority = EXCLUDED.priority, " +
                    $"webhook_url = EXCLUDED.webhook_url, settings = EXCLUDED.settings")),
                "workflowChannelConfig", channelSettings, byUuid).WithIds(("workflowId", workflow)))
            .Mutation(new MutationSpec("upsertNodeIoRequirement", TenantRole.Admin,
                (input, scope) => MutationSpec.StoreChangedId(Sql.Of(
                    $"INSERT INTO node_io_requirements (node_id, direction, field_name, field_type, is_required, default_value, " +
                    $"validation_rules, description, sensitivity) " +
                    $"VALUES ({scope.Parameter(input["nodeId"], NpgsqlDbType.Integer)}, " +
                    $"{scope.Parameter(input["direction"], NpgsqlDbType.Text)}, " +
                    $"{scope.Parameter(input["fieldName"], NpgsqlDbType.Text)}, " +
                    $"{scope.Parameter(input["fieldType"], NpgsqlDbType.Text)}, " +
                    $"{scope.Parameter(input.Get("isRequired") ?? false, NpgsqlDbType.Boolean)}, " +
                    $"{scope.JsonParameter(input.Get("defaultValue"))}, " +
                    $"coalesce({scope.JsonParameter(input.Get("validationRules"))}, '{{}}'), " +
                    $"{scope.Parameter(input.Get("description"), NpgsqlDbType.Text)}, " +
                    $"coalesce({scope.EnumParameter(input.Get("sensitivity"))}, 'none')) " +
                    $"ON CONFLICT (node_id, direction, field_name) DO UPDATE SET field_type = EXCLUDED.field_type, " +
                    $"is_required = EXCLUDED.is_required, default_value = EXCLUDED.default_value, " +
                    $"validation_rules = EXCLUDED.validation_rules, description = EXCLUDED.description, " +
                    $"sensitivity = EXCLUDED.sensitivity")),
                "nodeIoRequirement", ioRequirement, byUuid).WithIds(("nodeId", node)))
            .Mutation(new MutationSpec("deleteNodeIoRequirement", TenantRole.Admin,
                (input, scope) => MutationSpec.StoreChangedId(
                    Sql.Of($"DELETE FROM node_io_requirements WHERE id = {scope.Parameter(input["id"], NpgsqlDbType.Uuid)}")))
                .Deleting(ioRequirement))
            .Mutation(new MutationSpec("createWorkflowDataBinding", TenantRole.Admin,
                (input, scope) => MutationSpec.StoreChangedId(Sql.Of(
                    $"INSERT INTO workflow_data_bindings (workflow_id, source_node_id, source_field, target_node_id, target_field, " +
                    $"binding_type, transform_config) " +
                    $"VALUES ({scope.Parameter(input["workflowId"], NpgsqlDbType.Uuid)}, " +
                    $"{scope.Parameter(input.Get("sourceNodeId"), NpgsqlDbType.Integer)}, " +
                    $"{scope.Parameter(input.Get("sourceField"), NpgsqlDbType.Text)}, " +
                    $"{scope.Parameter(input["targetNodeId"], NpgsqlDbType.Integer)}, " +
                    $"{scope.Parameter(input["targetField"], NpgsqlDbType.Text)}, " +
                    $"{scope.Parameter(input.Get("bindingType") ?? "direct", NpgsqlDbType.Text)}, " +
                    $"coalesce({scope.JsonParameter(input.Get("transformConfig"))}, '{{}}'))")),
                "workflowDataBinding", binding, byUuid).WithIds(("workflowId", workflow), ("sourceNodeId", node), ("targetNodeId", node)))
            .Mutation(new MutationSpec("deleteWorkflowDataBinding", TenantRole.Admin,
                (input, scope) => MutationSpec.StoreChangedId(
                    Sql.Of($"DELETE FROM workflow_data_bindings WHERE id = {scope.Parameter(input["id"], NpgsqlDbType.Uuid)}")))
                .Deleting(binding));
    }
}
