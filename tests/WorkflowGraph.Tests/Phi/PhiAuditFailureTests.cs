using System.Text.Json;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Phi;

/// <summary>
/// A read that cannot be audited is not answered: in a database of its own whose service role lost INSERT on
/// phi_access_audit, a response that would show unmasked PHI carries no data but PHI_AUDIT_FAILED, and a mutation's write
/// is not kept; masked responses, which need no record, are answered as usual.
/// </summary>
public sealed class PhiAuditFailureTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    [Fact]
    public async Task Without_a_record_the_response_has_no_data_and_a_mutation_keeps_nothing()
    {
        var world = await PhiWorld.CreateAsync(api);
        await using var owner = await Mutations.FreshWorkflow.OwnerAsync(api);
        await owner.ExecAsync("REVOKE INSERT ON phi_access_audit FROM workflowgraph_app");
        try
        {
            var query = $$"""{ trace(id: "{{Ids.Trace(world.TraceId)}}") { externalId steps { inputData } } }""";
            var refused = await api.PostAsync(query, role: TenantRole.Viewer, scope: "phi:read");
            Assert.Equal(["PHI_AUDIT_FAILED"], refused.ErrorCodes);
            Assert.Equal(JsonValueKind.Null, refused.Body.GetProperty("data").ValueKind);
            foreach (var planted in world.Planted)
                Assert.DoesNotContain(planted, refused.Body.GetRawText(), StringComparison.Ordinal);

            var masked = await api.PostAsync(query, role: TenantRole.Viewer);
            Assert.Empty(masked.ErrorCodes);
            Assert.Equal("[REDACTED]", masked.Data.GetProperty("trace").GetProperty("externalId").GetString());

            var set = await api.PostAsync("""
                mutation ($traceId: ID!) {
                  setWorkflowContext(input: { traceId: $traceId, key: "patientName", value: "changed" }) { entry { value } }
                }
                """, new { traceId = Ids.Trace(world.TraceId) }, role: TenantRole.Operator, scope: "phi:read");
            Assert.Equal(["PHI_AUDIT_FAILED"], set.ErrorCodes);
            Assert.Equal(JsonValueKind.Null, set.Body.GetProperty("data").ValueKind);
            Assert.Equal($"\"{world.PatientName}\"", await owner.ScalarAsync<string>(
                "SELECT value::text FROM workflow_trace_context WHERE trace_id = $1 AND key = 'patientName'", world.TraceId));
            Assert.Equal(0L,
                await owner.ScalarAsync<long>("SELECT count(*) FROM phi_access_audit WHERE org_id = $1", world.Workflow.OrgId));
        }
        finally
        {
            await owner.ExecAsync("GRANT INSERT ON phi_access_audit TO workflowgraph_app");
        }

        // the failed audit transactions were ended: the pool's connections answer and record again
        for (var i = 0; i < 4; i++)
        {
            var answered = await api.PostAsync($$"""{ trace(id: "{{Ids.Trace(world.TraceId)}}") { externalId } }""",
                role: TenantRole.Viewer, scope: "phi:read");
            Assert.Empty(answered.ErrorCodes);
        }
        Assert.Equal(4L, await owner.ScalarAsync<long>("SELECT count(*) FROM phi_access_audit WHERE org_id = $1", world.Workflow.OrgId));
        Assert.Null(await owner.ScalarAsync<object>("SELECT verify_phi_access_audit($1)", world.Workflow.OrgId));
    }
}
