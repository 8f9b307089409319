using NpgsqlTypes;
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

        model.Mutation(new MutationSpec("createWorkflowConfig", TenantRole.Admin,
                (input, sql) => MutationSpec.StoreKey(
                    $"create_workflow_config({sql.Add(input.Get("workflowId"), NpgsqlDbType.Uuid)}, " +
                    $"{MutationInput.Enum(sql, input.Get("channel"))}::workflow_channel, {MutationInput.Enum(sql, input["configType"])}::config_type, " +
                    $"{sql.Add(input.Get("name"), NpgsqlDbType.Text)}, {sql.Add(input.Get("description"), NpgsqlDbType.Text)}, " +
                    $"{MutationRunner.Json(sql, input.Get("config"))}, {sql.Add(input.Get("activate") ?? false, NpgsqlDbType.Boolean)})"),
                "workflowConfig", model.Catalog.Get("WorkflowConfig"), byUuid))
            .Mutation(new MutationSpec("activateWorkflowConfig", TenantRole.Admin,
                (input, sql) => MutationSpec.StoreKey($"SELECT a.id FROM activate_workflow_config({sql.Add(input["configId"], NpgsqlDbType.Uuid)}) a"),
                "workflowConfig", model.Catalog.Get("WorkflowConfig"), byUuid))
            .Mutation(new MutationSpec("upsertChannelConfig", TenantRole.Admin,
                (input, sql) => Upsert(
                    "INSERT INTO channel_configs (channel, name, config, is_active) " +
                    $"VALUES ({MutationInput.Enum(sql, input["channel"])}, {sql.Add(input.Get("name"), NpgsqlDbType.Text)}, " +
                    $"{MutationRunner.Json(sql, input.Get("config"))}, {sql.Add(input.Get("isActive") ?? true, NpgsqlDbType.Boolean)}) " +
                    "ON CONFLICT (org_id, channel) DO UPDATE SET name = EXCLUDED.name, config = EXCLUDED.config, is_active = EXCLUDED.is_active"),
                "channelConfig", model.Catalog.Get("ChannelConfig"), byUuid))
            .Mutation(new MutationSpec("setWorkflowChannelConfig", TenantRole.Admin,
                (input, sql) => Upsert(
                    "INSERT INTO workflow_channel_configs (workflow_id, channel, is_enabled, priority, webhook_url, settings) " +
                    $"VALUES ({sql.Add(input["workflowId"], NpgsqlDbType.Uuid)}, {MutationInput.Enum(sql, input["channel"])}, " +
                    $"{sql.Add(input["isEnabled"], NpgsqlDbType.Boolean)}, {sql.Add(input.Get("priority") ?? 100, NpgsqlDbType.Integer)}, " +
                    $"{sql.Add(input.Get("webhookUrl"), NpgsqlDbType.Text)}, coalesce({MutationRunner.Json(sql, input.Get("settings"))}, '{{}}')) " +
                    "ON CONFLICT (workflow_id, channel) DO UPDATE SET is_enabled = EXCLUDED.is_enabled, priority = EXCLUDED.priority, " +
                    "webhook_url = EXCLUDED.webhook_url, settings = EXCLUDED.settings"),
                "workflowChannelConfig", model.Catalog.Get("WorkflowChannelConfig"), byUuid))
            .Mutation(new MutationSpec("upsertNodeIoRequirement", TenantRole.Admin,
                (input, sql) => Upsert(
                    "INSERT INTO node_io_requirements (node_id, direction, field_name, field_type, is_required, default_value, validation_rules, description) " +
                    $"VALUES ({sql.Add(input["nodeId"], NpgsqlDbType.Integer)}, {sql.Add(input["direction"], NpgsqlDbType.Text)}, " +
                    $"{sql.Add(input["fieldName"], NpgsqlDbType.Text)}, {sql.Add(input["fieldType"], NpgsqlDbType.Text)}, " +
                    $"{sql.Add(input.Get("isRequired") ?? false, NpgsqlDbType.Boolean)}, {MutationRunner.Json(sql, input.Get("defaultValue"))}, " +
                    $"coalesce({MutationRunner.Json(sql, input.Get("validationRules"))}, '{{}}'), {sql.Add(input.Get("description"), NpgsqlDbType.Text)}) " +
                    "ON CONFLICT (node_id, direction, field_name) DO UPDATE SET field_type = EXCLUDED.field_type, is_required = EXCLUDED.is_required, " +
                    "default_value = EXCLUDED.default_value, validation_rules = EXCLUDED.validation_rules, description = EXCLUDED.description"),
                "nodeIoRequirement", model.Catalog.Get("NodeIoRequirement"), byUuid))
            .Mutation(new MutationSpec("deleteNodeIoRequirement", TenantRole.Admin,
                (input, sql) => Upsert($"DELETE FROM node_io_requirements WHERE id = {sql.Add(input["id"], NpgsqlDbType.Uuid)}")))
            .Mutation(new MutationSpec("createWorkflowDataBinding", TenantRole.Admin,
                (input, sql) => Upsert(
                    "INSERT INTO workflow_data_bindings (workflow_id, source_node_id, source_field, target_node_id, target_field, binding_type, transform_config) " +
                    $"VALUES ({sql.Add(input["workflowId"], NpgsqlDbType.Uuid)}, {sql.Add(input.Get("sourceNodeId"), NpgsqlDbType.Integer)}, " +
                    $"{sql.Add(input.Get("sourceField"), NpgsqlDbType.Text)}, {sql.Add(input["targetNodeId"], NpgsqlDbType.Integer)}, " +
                    $"{sql.Add(input["targetField"], NpgsqlDbType.Text)}, {sql.Add(input.Get("bindingType") ?? "direct", NpgsqlDbType.Text)}, " +
                    $"coalesce({MutationRunner.Json(sql, input.Get("transformConfig"))}, '{{}}'))"),
                "workflowDataBinding", model.Catalog.Get("WorkflowDataBinding"), byUuid))
            .Mutation(new MutationSpec("deleteWorkflowDataBinding", TenantRole.Admin,
                (input, sql) => Upsert($"DELETE FROM workflow_data_bindings WHERE id = {sql.Add(input["id"], NpgsqlDbType.Uuid)}")));
    }

    /// <summary>A data-modifying statement whose affected id becomes the mutation's key ('' when no row changed).</summary>
    private static string Upsert(string statement) =>
        $"WITH changed AS ({statement} RETURNING id) SELECT set_config('wg.mutation_key', coalesce((SELECT id::text FROM changed), ''), true)";
}
