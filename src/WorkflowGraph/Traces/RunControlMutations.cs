using NpgsqlTypes;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Mutations;
using WorkflowGraph.SchemaBinding;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Traces;

/// <summary>
/// Run control: the queue (enqueue, claim, heartbeat), cancellation and re-runs. Each mutation calls its SQL function in
/// db/migrations/025_run_control.sql (027 for re-runs), where the state machine and its events live.
/// </summary>
public static class RunControlMutations
{
    public static void Register(GraphModel model)
    {
        var trace = model.Catalog.Get("WorkflowTrace");
        var workflow = model.Catalog.Get("Workflow");
        var byId = MutationSpec.KeyFromWrite("id", "bigint");
        var byTraceId = (Func<IDictionary<string, object?>, SqlAlias, StatementScope, Sql>)((input, alias, scope) =>
            Sql.Of($"{alias.Column("id")} = {scope.Parameter(input["traceId"], NpgsqlDbType.Bigint)}"));

        model.Mutation(new MutationSpec("enqueueWorkflowExecution", TenantRole.Operator,
                (input, scope) => MutationSpec.StoreKey(Sql.Of(
                    $"enqueue_workflow_execution({scope.Parameter(input["workflowId"], NpgsqlDbType.Uuid)}, " +
                    $"{scope.EnumParameter(input["channel"])}::workflow_channel, " +
                    $"{scope.Parameter(input.Get("externalId"), NpgsqlDbType.Text)}, " +
                    $"{scope.JsonParameter(input.Get("configSnapshot"))}, {scope.JsonParameter(input.Get("context"))}, " +
                    $"{scope.Parameter(input.Get("priority"), NpgsqlDbType.Integer)}, " +
                    $"{scope.Parameter(DbValues.ToDbValue(input.Get("notBefore"), ScalarKind.DateTime), NpgsqlDbType.TimestampTz)})")),
                "trace", trace, byId).WithIds(("workflowId", workflow)))
            .Mutation(new MutationSpec("claimWorkflowExecution", TenantRole.Operator,
                (input, scope) => MutationSpec.StoreKey(Sql.Of(
                    $"claim_workflow_execution({scope.Parameter(Channels(input["channels"]), NpgsqlDbType.Array | NpgsqlDbType.Text)}" +
                    $"::workflow_channel[], " +
                    $"{scope.Parameter(Workflows(input.Get("workflowIds")), NpgsqlDbType.Array | NpgsqlDbType.Uuid)}, " +
                    $"{scope.Parameter(input["workerName"], NpgsqlDbType.Text)}, " +
                    $"{scope.Parameter(input["leaseSeconds"], NpgsqlDbType.Integer)})")),
                "trace", trace, byId)
            { MayFindNothing = true }.WithIds(("workflowIds", workflow)))
            .Mutation(new MutationSpec("heartbeatWorkflowExecution", TenantRole.Operator,
                (input, scope) => Sql.Of(
                    $"SELECT row_to_json(h) FROM heartbeat_workflow_execution({scope.Parameter(input["traceId"], NpgsqlDbType.Bigint)}, " +
                    $"{scope.Parameter(input["leaseSeconds"], NpgsqlDbType.Integer)}, " +
                    $"{scope.Parameter(input.Get("workerName"), NpgsqlDbType.Text)}) h"),
                "trace", trace, byTraceId).WithIds(("traceId", trace)))
            .Mutation(new MutationSpec("cancelWorkflowExecution", TenantRole.Operator,
                (input, scope) => MutationSpec.StoreKey(Sql.Of(
                    $"cancel_workflow_execution({scope.Parameter(input["traceId"], NpgsqlDbType.Bigint)}, " +
                    $"{scope.Parameter(input["reason"], NpgsqlDbType.Text)}, {scope.EnumParameter(input.Get("mode"))})")),
                "trace", trace, byId).WithIds(("traceId", trace)))
            .Mutation(new MutationSpec("rerunWorkflowExecution", TenantRole.Operator,
                (input, scope) => MutationSpec.StoreKey(Sql.Of(
                    $"rerun_workflow_execution({scope.Parameter(input["traceId"], NpgsqlDbType.Bigint)}, " +
                    $"{scope.EnumParameter(input["strategy"])}, {scope.EnumParameter(input.Get("channel"))}::workflow_channel, " +
                    $"{scope.Parameter(input["reason"], NpgsqlDbType.Text)})")),
                "trace", trace, byId).WithIds(("traceId", trace)));
    }

    private static string[] Channels(object? channels) =>
        ((IEnumerable<object?>)channels!).Select(c => (string)DbValues.ToDbValue(c, ScalarKind.Enum)!).ToArray();

    private static Guid[]? Workflows(object? ids) => (ids as IEnumerable<object?>)?.Select(id => (Guid)id!).ToArray();
}
