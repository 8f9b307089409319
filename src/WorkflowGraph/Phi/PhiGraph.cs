using WorkflowGraph.Querying.Model;
using WorkflowGraph.SchemaBinding;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Phi;

/// <summary>The classification rules of context keys, configuration keys and identifier columns (db/migrations/035), and the
/// PHI access log (037, 039).</summary>
public static class PhiGraph
{
    public static void Register(GraphModel model)
    {
        var rule = new EntityMap
        {
            TypeName = "PhiClassificationRule",
            Relation = "phi_classification_rules",
            Key = ["id"],
            DefaultOrder = [new("target", Descending: false), new("key", Descending: false)],
        };
        model.Entities(rule).Connection("phiClassificationRules", rule);

        // the PHI access audit (037, 039): its service role may read it, the API shows it to admins only
        var record = new EntityMap
        {
            TypeName = "PhiAccessRecord",
            Relation = "phi_access_audit",
            // seq is unique within the organisation, which is all RLS shows; no global id, so node() cannot reach a record
            Key = ["seq"],
            DefaultOrder = [new("seq", Descending: true)],
            Relations = [new("runs", "PhiAccessRun", RelationKind.Many, [("org_id", "org_id"), ("seq", "seq")], [new("trace_id", false)])],
        };
        var run = new EntityMap
        {
            TypeName = "PhiAccessRun",
            Relation = "v_phi_access_audit_runs",
            Key = ["trace_id"],
            References = new Dictionary<string, string> { ["traceId"] = "WorkflowTrace" },
        };
        model.Entities(record, run).Connection("phiAccessLog", record, TenantRole.Admin);
    }
}
