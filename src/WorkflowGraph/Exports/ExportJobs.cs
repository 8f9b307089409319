using NpgsqlTypes;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Mutations;
using WorkflowGraph.SchemaBinding;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Traces;

namespace WorkflowGraph.Exports;

/// <summary>
/// <c>exportTraces</c>, which records an export job over the runs a <c>traces</c> filter matches
/// (<c>request_export_job</c>, db/migrations/043), and the admins' queries that show its progress and download link.
/// <see cref="ExportWorker"/> writes it in the background; <see cref="ExportDownloadEndpoint"/> serves the file.
/// </summary>
public static class ExportJobs
{
    public static void Register(GraphModel model)
    {
        var job = new EntityMap
        {
            TypeName = "ExportJob",
            Relation = "export_jobs",
            Key = ["id"],
            DefaultOrder = [new("requested_at", Descending: true)],
            Computed = new Dictionary<string, Func<SqlAlias, Sql>>
            {
                ["downloadUrl"] = row => Sql.Of(
                    $"CASE WHEN {row.Column("status")} = 'completed' " +
                    $"THEN {Sql.Raw("'" + ExportDownloadEndpoint.PathPrefix + "'")} || {row.Column("id")} END"),
            },
        };
        model.Entities(job)
            .Connection("exportJobs", job, TenantRole.Admin)
            .ByKey("exportJob", job, "id", role: TenantRole.Admin);

        var trace = model.Catalog.Get("WorkflowTrace");
        var maxRuns = model.Limits.MaxExportRuns;
        model.Mutation(new MutationSpec("exportTraces", TenantRole.Admin, (input, scope) =>
        {
            var matched = MatchedRuns.Of(scope, trace, (IDictionary<string, object?>)input["where"]!, maxRuns);
            var format = scope.EnumParameter(input.Get("format") ?? "JSONL");
            var deidentify = scope.Parameter(input.Get("deidentify") as bool? ?? true, NpgsqlDbType.Boolean);
            return Sql.Of($"SELECT request_export_job({matched.Ids}, {format}, {deidentify}, {matched.MaxRuns})");
        }, "job", job, MutationSpec.KeyFromWrite("id", "bigint")));
    }
}
