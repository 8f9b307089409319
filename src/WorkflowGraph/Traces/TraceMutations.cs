using NpgsqlTypes;
using WorkflowGraph.Querying.Mutations;
using WorkflowGraph.SchemaBinding;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Traces;

/// <summary>The execution mutations: each calls its SQL helper function, where the rules live.</summary>
public static class TraceMutations
{
    public static void Register(GraphModel model)
    {
        var trace = model.Catalog.Get("WorkflowTrace");
        var step = model.Catalog.Get("WorkflowStep");
        var context = model.Catalog.Get("WorkflowContextEntry");
        var traceById = MutationSpec.KeyFromWrite("id", "bigint");

        model.Mutation(new MutationSpec("startWorkflowExecution", TenantRole.Operator,
                (input, sql) => MutationSpec.StoreKey(
                    $"start_workflow_execution({sql.Add(input["workflowId"], NpgsqlDbType.Uuid)}, " +
                    $"{MutationInput.Enum(sql, input["channel"])}::workflow_channel, {sql.Add(input.Get("externalId"), NpgsqlDbType.Text)}, " +
                    $"{MutationRunner.Json(sql, input.Get("configSnapshot"))}, NULL)"),
                "trace", trace, traceById))
            .Mutation(new MutationSpec("completeWorkflowExecution", TenantRole.Operator,
                (input, sql) =>
                {
                    var id = sql.Add(input["traceId"], NpgsqlDbType.Bigint);
                    return $"SELECT complete_workflow_execution({id}, {MutationInput.Enum(sql, input["status"])}::trace_status, " +
                           $"{sql.Add(input.Get("errorMessage"), NpgsqlDbType.Text)}), set_config('wg.mutation_key', {id}::text, true)";
                },
                "trace", trace, traceById))
            .Mutation(new MutationSpec("startWorkflowStep", TenantRole.Operator,
                (input, sql) => MutationSpec.StoreKey(
                    $"start_workflow_step({sql.Add(input["traceId"], NpgsqlDbType.Bigint)}, {sql.Add(input["nodeId"], NpgsqlDbType.Integer)}, " +
                    $"{sql.Add(input["stepNumber"], NpgsqlDbType.Integer)}, {MutationRunner.Json(sql, input.Get("inputData"))})"),
                "step", step, MutationSpec.KeyFromWrite("id", "bigint")))
            .Mutation(new MutationSpec("completeWorkflowStep", TenantRole.Operator,
                (input, sql) =>
                {
                    var id = sql.Add(input["stepId"], NpgsqlDbType.Bigint);
                    return $"SELECT complete_workflow_step({id}, {MutationInput.Enum(sql, input["status"])}::step_status, " +
                           $"{MutationRunner.Json(sql, input.Get("outputData"))}, {sql.Add(input.Get("errorMessage"), NpgsqlDbType.Text)}), " +
                           $"set_config('wg.mutation_key', {id}::text, true)";
                },
                "step", step, MutationSpec.KeyFromWrite("id", "bigint")))
            .Mutation(new MutationSpec("retryWorkflowStep", TenantRole.Operator,
                (input, sql) => MutationSpec.StoreKey($"retry_workflow_step({sql.Add(input["stepId"], NpgsqlDbType.Bigint)})"),
                "step", step, MutationSpec.KeyFromWrite("id", "bigint")))
            .Mutation(new MutationSpec("setWorkflowContext", TenantRole.Operator,
                (input, sql) => $"SELECT set_workflow_context({sql.Add(input["traceId"], NpgsqlDbType.Bigint)}, " +
                                $"{sql.Add(input["key"], NpgsqlDbType.Text)}, {MutationRunner.Json(sql, input.Get("value"))})",
                "entry", context,
                (input, alias, sql) => $"{alias}.trace_id = {sql.Add(input["traceId"], NpgsqlDbType.Bigint)} AND {alias}.key = {sql.Add(input["key"], NpgsqlDbType.Text)}"))
            .Mutation(new MutationSpec("cleanupOldExecutionData", TenantRole.Admin,
                (input, sql) => "SELECT row_to_json(c) FROM cleanup_old_execution_data(make_interval(days => " +
                                $"{sql.Add(input["retentionDays"], NpgsqlDbType.Integer)})) c"));
    }
}
