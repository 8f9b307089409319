using NpgsqlTypes;
using WorkflowGraph.Querying.Emit;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Mutations;
using WorkflowGraph.SchemaBinding;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Traces;

/// <summary>
/// Bulk cancels and re-runs: the mutations that record one (<c>request_bulk_operation</c>, db/migrations/028) over
/// the runs a <c>traces</c> filter matches, and the queries that show its progress. <see cref="BulkOperationWorker"/>
/// works it in the background.
/// </summary>
public static class BulkOperations
{
    private static readonly string[] Open = ["pending", "active"];
    private static readonly string[] Finished = ["completed", "failed", "cancelled", "timeout"];
    private static readonly string[] Failed = ["failed", "cancelled", "timeout"];

    public static void Register(GraphModel model)
    {
        var operation = new EntityMap
        {
            TypeName = "BulkOperation",
            Relation = "bulk_operations",
            Key = ["id"],
            DefaultOrder = [new("requested_at", Descending: true)],
        };
        model.Entities(operation)
            .Connection("bulkOperations", operation)
            .ByKey("bulkOperation", operation, "id");

        var trace = model.Catalog.Get("WorkflowTrace");
        var maxRuns = model.Limits.MaxBulkRuns;
        model.Mutation(Spec("bulkCancelWorkflowExecutions", operation, trace, (input, scope) =>
                Request(scope, trace, input, maxRuns, "cancel", Open, Sql.Of(
                    $"{scope.Parameter(input["reason"], NpgsqlDbType.Text)}, {scope.EnumParameter(input.Get("mode"))}, NULL, NULL"))))
            .Mutation(Spec("bulkRerunWorkflowExecutions", operation, trace, (input, scope) =>
            {
                var fromFailure = string.Equals(input["strategy"]?.ToString(), "FROM_FAILURE", StringComparison.Ordinal);
                return Request(scope, trace, input, maxRuns, "rerun", fromFailure ? Failed : Finished, Sql.Of(
                    $"{scope.Parameter(input["reason"], NpgsqlDbType.Text)}, NULL, {scope.EnumParameter(input["strategy"])}, " +
                    $"{scope.EnumParameter(input.Get("channel"))}::workflow_channel"));
            }));
    }

    private static MutationSpec Spec(string field, EntityMap operation, EntityMap trace,
        Func<IDictionary<string, object?>, StatementScope, Sql> write)
    {
        // the sample: the run ids request_bulk_operation left in wg.bulk_sample
        var sample = new PayloadObject("sample", trace, (_, alias, _) => Sql.Of(
            $"{alias.Column("id")} = ANY(string_to_array(nullif(current_setting('wg.bulk_sample', true), ''), ',')::bigint[])"))
        {
            Many = true,
        };
        var spec = new MutationSpec(field, TenantRole.Operator, write, "operation", operation, MutationSpec.KeyFromWrite("id", "bigint"))
        {
            MayFindNothing = true,
        };
        return spec.Returning(sample);
    }

    /// <summary>
    /// The request: the ids of the runs the filter matches among those in <paramref name="statuses"/> (<see cref="MatchedRuns"/>;
    /// the statement is bounded by the request's statement timeout), and whether the filter leaves out any run of the
    /// organisation.
    /// </summary>
    private static Sql Request(StatementScope scope, EntityMap trace, IDictionary<string, object?> input, int maxRuns,
        string kind, string[] statuses, Sql arguments)
    {
        var matched = MatchedRuns.Of(scope, trace, (IDictionary<string, object?>)input["where"]!, maxRuns, (match, s) =>
            Sql.Of($"{match.Column("status")} = ANY({s.Parameter(statuses, NpgsqlDbType.Array | NpgsqlDbType.Text)})"));
        var rest = scope.Alias();
        var restCondition = FilterSql.Condition(matched.Filter, rest, scope);
        var excluded = restCondition.IsEmpty
            ? Sql.Raw("NULL::boolean")
            : Sql.Of($"EXISTS (SELECT 1 FROM workflow_trace {rest} WHERE ({restCondition}) IS NOT TRUE)");
        var dryRun = scope.Parameter(input.Get("dryRun") as bool? ?? false, NpgsqlDbType.Boolean);
        return Sql.Of(
            $"SELECT row_to_json(b) FROM request_bulk_operation({Sql.Raw("'" + kind + "'")}, {matched.Ids}, {excluded}, {arguments}, " +
            $"{dryRun}, {matched.MaxRuns}) b");
    }
}
