using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Tests.Telemetry;
using static WorkflowGraph.Tests.Mutations.PayloadErrors;

namespace WorkflowGraph.Tests.Mutations;

/// <summary>The API with its sweeper ticking every second (<c>Execution:SweepIntervalSeconds</c>).</summary>
public sealed class SweepingApiFixture : GraphApiFixture
{
    protected override void ConfigureHost(IWebHostBuilder host) => host.UseSetting("Execution:SweepIntervalSeconds", "1");
}

/// <summary>
/// Workers that go away: the service's own sweeper ends their runs — a lease nobody renews, a graceful cancel nobody
/// acts on — and the worker that comes back has lost the run. Waits are for a state, bounded at 60 s, never a fixed pause.
/// </summary>
public sealed class RunSweeperServiceTests(SweepingApiFixture api) : IClassFixture<SweepingApiFixture>
{
    private const string Errors = "errors { __typename ... on Error { message } }";

    private async Task<JsonElement> RunAsync(Guid org, string query, object variables, string field)
    {
        var response = await api.PostAsync(query, variables, org, role: TenantRole.Operator);
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        return response.Data.GetProperty(field);
    }

    /// <summary>A run of a fresh workflow, claimed with a lease of <paramref name="leaseSeconds"/>; its id.</summary>
    private async Task<(FreshWorkflow Workflow, string Id)> ClaimedAsync(int leaseSeconds)
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        var enqueued = await RunAsync(workflow.OrgId, $$"""
            mutation ($w: ID!) { enqueueWorkflowExecution(input: { workflowId: $w, channel: VOICE }) { trace { id } {{Errors}} } }
            """, new { w = Ids.Workflow(workflow.Id) }, "enqueueWorkflowExecution");
        var claimed = await RunAsync(workflow.OrgId, $$"""
            mutation ($w: [ID!], $lease: Int!) {
              claimWorkflowExecution(input: { channels: [VOICE], workflowIds: $w, workerName: "dialer-1", leaseSeconds: $lease }) {
                trace { id } {{Errors}}
              }
            }
            """, new { w = new[] { Ids.Workflow(workflow.Id) }, lease = leaseSeconds }, "claimWorkflowExecution");
        var id = claimed.GetProperty("trace").GetProperty("id").GetString()!;
        Assert.Equal(enqueued.GetProperty("trace").GetProperty("id").GetString(), id);
        return (workflow, id);
    }

    private async Task<JsonElement> WaitForStatusAsync(Guid org, string id, string status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var trace = (await api.PostAsync("query ($id: ID!) { trace(id: $id) { status errorMessage events { eventType eventData } } }",
                new { id }, org, role: TenantRole.Viewer)).Data.GetProperty("trace");
            if (trace.GetProperty("status").GetString() == status || DateTime.UtcNow > deadline)
                return trace;
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task A_worker_that_never_heartbeats_loses_its_run_to_timeout_and_is_told_so()
    {
        var (workflow, id) = await ClaimedAsync(leaseSeconds: 1);
        var trace = await WaitForStatusAsync(workflow.OrgId, id, "TIMEOUT");
        Assert.Equal("TIMEOUT", trace.GetProperty("status").GetString());
        var last = trace.GetProperty("events").EnumerateArray().Last();
        Assert.Equal("workflow_timeout", last.GetProperty("eventType").GetString());
        Assert.Equal("sweeper", last.GetProperty("eventData").GetProperty("by").GetString());
        Assert.True(await MetricScrape.ValueAsync(api.Client, "workflowgraph_sweeper_runs_total", "outcome=\"timeout\"") >= 1);

        var beat = await RunAsync(workflow.OrgId, $$"""
            mutation ($id: ID!) { heartbeatWorkflowExecution(input: { traceId: $id, leaseSeconds: 30 }) { cancelRequested {{Errors}} } }
            """, new { id }, "heartbeatWorkflowExecution");
        Assert.Equal("InvalidStateError", ErrorType(beat));
    }

    [Fact]
    public async Task A_graceful_cancel_that_no_worker_acts_on_still_ends_as_cancelled()
    {
        var (workflow, id) = await ClaimedAsync(leaseSeconds: 2);
        var cancel = await RunAsync(workflow.OrgId, $$"""
            mutation ($id: ID!) {
              cancelWorkflowExecution(input: { traceId: $id, reason: "bot hammering the portal", mode: GRACEFUL }) {
                trace { status cancelRequestedAt } {{Errors}}
              }
            }
            """, new { id }, "cancelWorkflowExecution");
        Assert.Null(ErrorType(cancel));

        var trace = await WaitForStatusAsync(workflow.OrgId, id, "CANCELLED");
        Assert.Equal("CANCELLED", trace.GetProperty("status").GetString());
        Assert.Equal("cancelled: bot hammering the portal", trace.GetProperty("errorMessage").GetString());
    }
}
