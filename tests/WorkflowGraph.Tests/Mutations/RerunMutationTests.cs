using System.Text.Json;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;
using static WorkflowGraph.Tests.Mutations.PayloadErrors;

namespace WorkflowGraph.Tests.Mutations;

/// <summary>Re-runs over HTTP: lineage (parent, root, attempt, reruns, filters), what FROM_FAILURE carries over, refusals.</summary>
public sealed class RerunMutationTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    private const string Errors = "errors { __typename ... on Error { message } ... on ValidationError { fields { field message } } }";
    private const string Rerun = $$"""
        mutation ($traceId: ID!, $strategy: RerunStrategy!, $channel: WorkflowChannel, $reason: String!) {
          rerunWorkflowExecution(input: { traceId: $traceId, strategy: $strategy, channel: $channel, reason: $reason }) {
            trace {
              id status channel parentTraceId rootTraceId attempt resumeFromStepNumber configSnapshot
              parent { id status }
              steps { stepNumber status inputData outputData }
              context { key value }
            }
            {{Errors}}
          }
        }
        """;

    private async Task<JsonElement> RunAsync(Guid org, string query, object variables, string field)
    {
        var response = await api.PostAsync(query, variables, org, role: TenantRole.Operator);
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        return response.Data.GetProperty(field);
    }

    /// <summary>A run with context whose step 1 completed and step 2 failed, ended as <paramref name="status"/>; its id.</summary>
    private async Task<string> FailedRunAsync(FreshWorkflow workflow, string status = "FAILED")
    {
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        await conn.ExecAsync("BEGIN");
        await conn.BecomeTenantAsync(workflow.OrgId, GraphApiFixture.UserOf(workflow.OrgId));
        var run = await conn.ScalarAsync<long>(
            "SELECT enqueue_workflow_execution($1, 'web', NULL, '{\"portal\": \"availity\"}', '{\"member\": \"M-1\"}')", workflow.Id);
        await conn.ExecAsync("SELECT claim_workflow_execution('{web}', ARRAY[$1]::uuid[], 'bot', 60)", workflow.Id);
        var first = await conn.ScalarAsync<long>("SELECT start_workflow_step($1, $2, 1, '{\"a\": 1}')", run, workflow.Nodes[0]);
        await conn.ExecAsync("SELECT complete_workflow_step($1, 'completed', '{\"eligible\": true}', NULL)", first);
        var second = await conn.ScalarAsync<long>("SELECT start_workflow_step($1, $2, 2, '{\"b\": 2}')", run, workflow.Nodes[1]);
        await conn.ExecAsync("SELECT complete_workflow_step($1, 'failed', NULL, 'portal 503')", second);
        await conn.ExecAsync("SELECT complete_workflow_execution($1, $2::trace_status, 'payer outage')", run, status.ToLowerInvariant());
        await conn.ExecAsync("COMMIT");
        return Ids.Trace(run);
    }

    [Fact]
    public async Task From_failure_carries_over_the_completed_steps_and_the_context_on_another_channel()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        var original = await FailedRunAsync(workflow);

        var payload = await RunAsync(workflow.OrgId, Rerun,
            new { traceId = original, strategy = "FROM_FAILURE", channel = "VOICE", reason = "payer portal back" },
            "rerunWorkflowExecution");
        Assert.Null(ErrorType(payload));
        var rerun = payload.GetProperty("trace");
        Assert.Equal("PENDING", rerun.GetProperty("status").GetString());
        Assert.Equal("VOICE", rerun.GetProperty("channel").GetString());
        Assert.Equal(original, rerun.GetProperty("parentTraceId").GetString());
        Assert.Equal(original, rerun.GetProperty("rootTraceId").GetString());
        Assert.Equal(original, rerun.GetProperty("parent").GetProperty("id").GetString());
        Assert.Equal(2, rerun.GetProperty("attempt").GetInt32());
        Assert.Equal(2, rerun.GetProperty("resumeFromStepNumber").GetInt32());
        Assert.Equal("availity", rerun.GetProperty("configSnapshot").GetProperty("portal").GetString());
        var step = Assert.Single(rerun.GetProperty("steps").EnumerateArray());
        Assert.Equal((1, "COMPLETED"), (step.GetProperty("stepNumber").GetInt32(), step.GetProperty("status").GetString()));
        Assert.True(step.GetProperty("outputData").GetProperty("eligible").GetBoolean());
        Assert.Equal("M-1", Assert.Single(rerun.GetProperty("context").EnumerateArray()).GetProperty("value").GetString());
    }

    [Fact]
    public async Task Lineage_keeps_its_root_counts_attempts_and_is_navigable_and_filterable()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        var original = await FailedRunAsync(workflow, "TIMEOUT");
        var second = (await RunAsync(workflow.OrgId, Rerun, new { traceId = original, strategy = "ALL_STEPS", reason = "again" },
            "rerunWorkflowExecution")).GetProperty("trace");
        Assert.Equal(0, second.GetProperty("steps").GetArrayLength());
        Assert.Equal(0, second.GetProperty("context").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("resumeFromStepNumber").ValueKind);
        var secondId = second.GetProperty("id").GetString()!;
        await using (var conn = await FreshWorkflow.OwnerAsync(api))
            await conn.ExecAsync("UPDATE workflow_trace SET status = 'cancelled', end_time = now() WHERE id = $1",
                long.Parse(Ids.KeyOf(secondId, "WorkflowTrace")));
        var third = (await RunAsync(workflow.OrgId, Rerun, new { traceId = secondId, strategy = "ALL_STEPS", reason = "third time" },
            "rerunWorkflowExecution")).GetProperty("trace");
        Assert.Equal(3, third.GetProperty("attempt").GetInt32());
        Assert.Equal(original, third.GetProperty("rootTraceId").GetString());
        Assert.Equal(secondId, third.GetProperty("parentTraceId").GetString());

        var lineage = await api.PostAsync($$"""
            {
              traces(where: { rootTraceId: { eq: "{{original}}" } }, order: [{ attempt: ASC }]) { nodes { id attempt } }
              rerun: traces(where: { workflowId: { eq: "{{Ids.Workflow(workflow.Id)}}" }, reruns: { any: true } },
                            order: [{ attempt: ASC }]) {
                nodes { id reruns { id } }
              }
              trace(id: "{{original}}") { reruns { id reruns { id } } }
            }
            """, org: workflow.OrgId, role: TenantRole.Viewer);
        Assert.Equal([2, 3],
            lineage.Data.GetProperty("traces").GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("attempt").GetInt32()));
        Assert.Equal([original, secondId],
            lineage.Data.GetProperty("rerun").GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("id").GetString()));
        var reruns = lineage.Data.GetProperty("trace").GetProperty("reruns");
        Assert.Equal(secondId, reruns[0].GetProperty("id").GetString());
        Assert.Equal(third.GetProperty("id").GetString(), reruns[0].GetProperty("reruns")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task Refused_reruns_are_typed_errors_and_write_nothing()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        var failed = await FailedRunAsync(workflow);
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        var active = await conn.ScalarAsync<long>(
            "INSERT INTO workflow_trace (org_id, workflow_id, channel, status) VALUES ($1, $2, 'web', 'active') RETURNING id",
            workflow.OrgId, workflow.Id);
        var completed = await conn.ScalarAsync<long>(
            "INSERT INTO workflow_trace (org_id, workflow_id, channel, status, end_time) " +
            "VALUES ($1, $2, 'web', 'completed', now()) RETURNING id",
            workflow.OrgId, workflow.Id);
        var before = await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_trace WHERE workflow_id = $1", workflow.Id);
        Task<JsonElement> Try(Guid org, object variables) => RunAsync(org, Rerun, variables, "rerunWorkflowExecution");

        var stillActive = await Try(workflow.OrgId, new { traceId = Ids.Trace(active), strategy = "ALL_STEPS", reason = "x" });
        Assert.Equal("InvalidStateError", ErrorType(stillActive));
        Assert.Equal("InvalidStateError",
            ErrorType(await Try(workflow.OrgId, new { traceId = Ids.Trace(completed), strategy = "FROM_FAILURE", reason = "x" })));
        Assert.Equal("NotFoundError",
            ErrorType(await Try(GraphApiFixture.OrgB, new { traceId = failed, strategy = "ALL_STEPS", reason = "not mine" })));
        Assert.Equal("reason", ErrorField(await Try(workflow.OrgId, new { traceId = failed, strategy = "ALL_STEPS", reason = "" })));
        Assert.Equal(before, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_trace WHERE workflow_id = $1", workflow.Id));
        Assert.Equal(0L, await conn.ScalarAsync<long>(
            "SELECT count(*) FROM workflow_events WHERE trace_id = $1 AND event_type = 'workflow_rerun_requested'",
            long.Parse(Ids.KeyOf(failed, "WorkflowTrace"))));
    }
}
