using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Mutations;

namespace WorkflowGraph.Tests.Phi;

/// <summary>
/// A run of its own whose data carries planted identifiers, in one organisation: node 1 has PHI fields (memberId in,
/// diagnosis out; payer is NONE), node 2 has none; context key patientName, configuration key memberDob and the
/// external_id column are classified PHI. Every planted value ends in the world's unique tag.
/// </summary>
internal sealed record PhiWorld(FreshWorkflow Workflow, long TraceId, long ClassifiedStepId, long FailedStepId, string Tag)
{
    public string MemberId => "M-" + Tag;
    public string Diagnosis => "E11.9-" + Tag;
    public string Note => "note-" + Tag;
    public string PatientName => "Jane " + Tag;
    public string MemberDob => "1970-01-01-" + Tag;
    public string ExternalId => "CLAIM-" + Tag;
    /// <summary>A value in a field classified NONE: shown to everyone.</summary>
    public string Payer => "payer-" + Tag;
    /// <summary>Input of node 2, which has no PHI field: shown to everyone.</summary>
    public string Plain => "plain-" + Tag;

    public IEnumerable<string> Planted => [MemberId, Diagnosis, Note, PatientName, MemberDob, ExternalId];

    public static async Task<PhiWorld> CreateAsync(GraphApiFixture api, Guid? org = null, bool classify = true)
    {
        var workflow = await FreshWorkflow.CreateAsync(api, org);
        var tag = Guid.NewGuid().ToString("N")[..12];
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        if (classify)
        {
            await conn.ExecAsync(
                "INSERT INTO node_io_requirements (org_id, node_id, direction, field_name, field_type, sensitivity) VALUES " +
                "($1, $2, 'input', 'memberId', 'string', 'phi'), ($1, $2, 'input', 'payer', 'string', 'none'), " +
                "($1, $2, 'output', 'diagnosis', 'string', 'phi')", workflow.OrgId, workflow.Nodes[0]);
            await conn.ExecAsync(
                "INSERT INTO phi_classification_rules (org_id, target, key, sensitivity) VALUES " +
                "($1, 'context_key', 'patientName', 'phi'), ($1, 'config_key', 'memberDob', 'phi'), ($1, 'column', 'external_id', 'phi') " +
                "ON CONFLICT DO NOTHING", workflow.OrgId);
        }
        var world = new PhiWorld(workflow, 0, 0, 0, tag);
        var trace = await conn.ScalarAsync<long>("SELECT start_workflow_execution($1, 'web', $2, $3::jsonb, NULL)",
            workflow.Id, world.ExternalId, $$"""{"memberDob": "{{world.MemberDob}}", "plan": "gold"}""");
        var classified = await conn.ScalarAsync<long>("SELECT start_workflow_step($1, $2, 1, $3::jsonb)", trace, workflow.Nodes[0],
            $$"""{"memberId": "{{world.MemberId}}", "payer": "{{world.Payer}}", "note": "{{world.Note}}"}""");
        await conn.ExecAsync("SELECT complete_workflow_step($1, 'completed', $2::jsonb, NULL)", classified,
            $$"""{"diagnosis": "{{world.Diagnosis}}", "extra": "{{world.Note}}"}""");
        var failed = await conn.ScalarAsync<long>("SELECT start_workflow_step($1, $2, 2, $3::jsonb)", trace, workflow.Nodes[0],
            $$"""{"memberId": "{{world.MemberId}}"}""");
        await conn.ExecAsync("SELECT complete_workflow_step($1, 'failed', NULL, 'payer timeout')", failed);
        await conn.ExecAsync("SELECT start_workflow_step($1, $2, 3, $3::jsonb)", trace, workflow.Nodes[1],
            $$"""{"value": "{{world.Plain}}"}""");
        await conn.ExecAsync("SELECT set_workflow_context($1, 'patientName', $2::jsonb)", trace, $"\"{world.PatientName}\"");
        await conn.ExecAsync("SELECT set_workflow_context($1, 'batch', $2::jsonb)", trace, $"\"{world.Payer}\"");
        return world with { TraceId = trace, ClassifiedStepId = classified, FailedStepId = failed };
    }
}
