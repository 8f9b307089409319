using NpgsqlTypes;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Mutations;
using WorkflowGraph.Retention;
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
        var workflow = model.Catalog.Get("Workflow");
        var node = model.Catalog.Get("WorkflowNode");
        var byId = MutationSpec.KeyFromWrite("id", "bigint");

        model.Mutation(new MutationSpec("startWorkflowExecution", TenantRole.Operator,
                (input, scope) => MutationSpec.StoreKey(Sql.Of(
                    $"start_workflow_execution({scope.Parameter(input["workflowId"], NpgsqlDbType.Uuid)}, " +
                    $"{scope.EnumParameter(input["channel"])}::workflow_channel, " +
                    $"{scope.Parameter(input.Get("externalId"), NpgsqlDbType.Text)}, " +
                    $"{scope.JsonParameter(input.Get("configSnapshot"))}, NULL)")),
                "trace", trace, byId).WithIds(("workflowId", workflow)))
            .Mutation(new MutationSpec("completeWorkflowExecution", TenantRole.Operator,
                (input, scope) =>
                {
                    var id = scope.Parameter(input["traceId"], NpgsqlDbType.Bigint);
                    return Sql.Of($"SELECT complete_workflow_execution({id}, {scope.EnumParameter(input["status"])}::trace_status, " +
                                  $"{scope.Parameter(input.Get("errorMessage"), NpgsqlDbType.Text)}), " +
                                  $"set_config('wg.mutation_key', {id}::text, true)");
                },
                "trace", trace, byId).WithIds(("traceId", trace)))
            .Mutation(new MutationSpec("startWorkflowStep", TenantRole.Operator,
                (input, scope) => MutationSpec.StoreKey(Sql.Of(
                    $"start_workflow_step({scope.Parameter(input["traceId"], NpgsqlDbType.Bigint)}, " +
                    $"{scope.Parameter(input["nodeId"], NpgsqlDbType.Integer)}, " +
                    $"{scope.Parameter(input["stepNumber"], NpgsqlDbType.Integer)}, {scope.JsonParameter(input.Get("inputData"))})")),
                "step", step, byId).WithIds(("traceId", trace), ("nodeId", node)))
            .Mutation(new MutationSpec("completeWorkflowStep", TenantRole.Operator,
                (input, scope) =>
                {
                    var id = scope.Parameter(input["stepId"], NpgsqlDbType.Bigint);
                    return Sql.Of($"SELECT complete_workflow_step({id}, {scope.EnumParameter(input["status"])}::step_status, " +
                                  $"{scope.JsonParameter(input.Get("outputData"))}, " +
                                  $"{scope.Parameter(input.Get("errorMessage"), NpgsqlDbType.Text)}), " +
                                  $"set_config('wg.mutation_key', {id}::text, true)");
                },
                "step", step, byId).WithIds(("stepId", step)))
            .Mutation(new MutationSpec("retryWorkflowStep", TenantRole.Operator,
                (input, scope) => MutationSpec.StoreKey(
                    Sql.Of($"retry_workflow_step({scope.Parameter(input["stepId"], NpgsqlDbType.Bigint)})")),
                "step", step, byId).WithIds(("stepId", step)))
            .Mutation(new MutationSpec("setWorkflowContext", TenantRole.Operator,
                (input, scope) => Sql.Of($"SELECT set_workflow_context({scope.Parameter(input["traceId"], NpgsqlDbType.Bigint)}, " +
                                         $"{scope.Parameter(input["key"], NpgsqlDbType.Text)}, {scope.JsonParameter(input.Get("value"))})"),
                "entry", context,
                (input, alias, scope) => Sql.Of($"{alias.Column("trace_id")} = {scope.Parameter(input["traceId"], NpgsqlDbType.Bigint)} " +
                                                $"AND {alias.Column("key")} = {scope.Parameter(input["key"], NpgsqlDbType.Text)}"))
                .WithIds(("traceId", trace))
                .Returning(new PayloadObject("trace", trace, (input, alias, scope) =>
                    Sql.Of($"{alias.Column("id")} = {scope.Parameter(input["traceId"], NpgsqlDbType.Bigint)}"))))
            .Mutation(new MutationSpec("cleanupOldExecutionData", TenantRole.Admin,
                    (input, scope) => Sql.Of($"SELECT row_to_json(c) FROM cleanup_old_execution_data(make_interval(days => " +
                                             $"{scope.Parameter(input["retentionDays"], NpgsqlDbType.Integer)})) c"))
                // with Retention:ArchiveDirectory, what it deletes is archived first, in the same transaction
                .Preparing(RetentionArchive.BeforeCleanupAsync));
    }
}
