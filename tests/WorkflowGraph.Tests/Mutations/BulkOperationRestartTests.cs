using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Auth;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Traces;
using static WorkflowGraph.Tests.Mutations.PayloadErrors;

namespace WorkflowGraph.Tests.Mutations;

/// <summary>The API without a bulk worker of its own (the tests start workers as hosts of their own), and a low limit.</summary>
public sealed class WorkerlessApiFixture : GraphApiFixture
{
    public const int MaxBulkRuns = 1_000;

    protected override void ConfigureHost(IWebHostBuilder host) => host
        .UseSetting("Execution:BulkPollSeconds", "0")
        .UseSetting("GraphQL:MaxBulkRuns", MaxBulkRuns.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

/// <summary>
/// Stops its instance's worker after a number of batches of one operation: the worker then waits until its host stops.
/// </summary>
internal sealed class StopAfterBatches(long operationId, int batches) : IBulkBatchObserver
{
    private int _seen;

    public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task AfterBatchAsync(BulkBatchResult result, CancellationToken cancellationToken)
    {
        if (result.OperationId != operationId || Interlocked.Increment(ref _seen) < batches)
            return;
        Reached.TrySetResult();
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }
}

/// <summary>
/// A bulk operation survives its instance: one worker stops between batches, another resumes it, and every run is
/// cancelled exactly once. The matched-runs limit is refused with a coded error.
/// </summary>
public sealed class BulkOperationRestartTests(WorkerlessApiFixture api) : IClassFixture<WorkerlessApiFixture>
{
    private const string Errors = "errors { __typename ... on Error { message } ... on ValidationError { fields { field message } } }";
    private const string BulkCancel = $$"""
        mutation ($where: WorkflowTraceFilterInput!, $reason: String!, $dryRun: Boolean) {
          bulkCancelWorkflowExecutions(input: { where: $where, reason: $reason, dryRun: $dryRun }) {
            operation { id rowId status total done } matched {{Errors}}
          }
        }
        """;

    private async Task<JsonElement> CancelAsync(FreshWorkflow workflow, bool dryRun = false)
    {
        var response = await api.PostAsync(BulkCancel,
            new { where = new { workflowId = new { eq = Ids.Workflow(workflow.Id) } }, reason = "restart drill", dryRun },
            workflow.OrgId, role: TenantRole.Operator);
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        return response.Data.GetProperty("bulkCancelWorkflowExecutions");
    }

    private async Task AddRunsAsync(FreshWorkflow workflow, int count)
    {
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        await conn.ExecAsync("INSERT INTO workflow_trace (org_id, workflow_id, channel, status, start_time) " +
                             "SELECT $1, $2, 'web', 'pending', now() FROM generate_series(1, $3)", workflow.OrgId, workflow.Id, count);
    }

    /// <summary>A second instance of the service over the same database: only its worker matters here.</summary>
    private WebApplicationFactory<Program> Worker(IBulkBatchObserver? observer) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(host => host
            .UseSetting("ConnectionStrings:WorkflowGraph", api.Database.ServiceConnectionString)
            .UseSetting("ConnectionStrings:WorkflowGraphOwner", api.Database.OwnerConnectionString)
            .UseSetting("Execution:SweepIntervalSeconds", "0")
            .UseSetting("Execution:BulkPollSeconds", "0.2")
            .UseSetting("Execution:BulkBatchSize", "100")
            .UseTestSigningKey()
            .ConfigureTestServices(services =>
            {
                if (observer is not null)
                    services.AddSingleton(observer);
            }));

    private async Task<Dictionary<string, object?>> OperationRowAsync(long id)
    {
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        return (await conn.RowsAsync("SELECT status, done, failed, total, lease_expires_at FROM bulk_operations WHERE id = $1", id))[0];
    }

    [Fact]
    public async Task An_operation_stopped_between_batches_is_resumed_by_another_instance_and_acts_on_every_run_once()
    {
        const int runs = 900;
        var workflow = await FreshWorkflow.CreateAsync(api);
        await AddRunsAsync(workflow, runs);
        var requested = await CancelAsync(workflow);
        Assert.Null(ErrorType(requested));
        var id = requested.GetProperty("operation").GetProperty("rowId").GetInt64();

        var stopper = new StopAfterBatches(id, 3);
        await using (var first = Worker(stopper))
        {
            _ = first.Services; // starts the host and its worker
            await stopper.Reached.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        // stopped after its third batch: 300 runs done and committed, the lease given back, the rest still to do
        var stopped = await OperationRowAsync(id);
        Assert.Equal("running", stopped["status"]);
        Assert.Equal(300, stopped["done"]);
        Assert.Null(stopped["lease_expires_at"]);

        var log = new BatchLog();
        await using (var second = Worker(log))
        {
            _ = second.Services;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!log.Batches.Any(b => b.OperationId == id && b.Status == "completed") && DateTime.UtcNow < deadline)
                await Task.Delay(100);
        }
        var finished = await OperationRowAsync(id);
        Assert.Equal("completed", finished["status"]);
        Assert.Equal(runs, finished["done"]);
        Assert.Equal(0, finished["failed"]);
        // the second instance started where the first one's last batch ended
        Assert.Equal(400, log.Batches.First(b => b.OperationId == id).Done);

        await using var conn = await FreshWorkflow.OwnerAsync(api);
        var counts = await conn.RowsAsync(
            "SELECT (SELECT count(*) FROM workflow_trace WHERE workflow_id = $1 AND status = 'cancelled') AS cancelled, " +
            "       (SELECT count(*) FROM workflow_events e JOIN workflow_trace t ON t.id = e.trace_id " +
            "         WHERE t.workflow_id = $1 AND e.event_type = 'workflow_cancelled') AS events, " +
            "       (SELECT count(*) FROM bulk_operation_runs WHERE operation_id = $2) AS left_to_do",
            workflow.Id, id);
        Assert.Equal((long)runs, counts[0]["cancelled"]);
        Assert.Equal((long)runs, counts[0]["events"]);
        // a done run's row goes with the batch that did it: nothing is left to do, and nothing failed
        Assert.Equal(0L, counts[0]["left_to_do"]);
    }

    [Fact]
    public async Task Runs_that_ended_after_the_request_count_as_failed_with_their_reason_and_are_left_as_they_ended()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        await AddRunsAsync(workflow, 20);
        var id = (await CancelAsync(workflow)).GetProperty("operation").GetProperty("rowId").GetInt64();
        await using (var conn = await FreshWorkflow.OwnerAsync(api))
            await conn.ExecAsync(
                "UPDATE workflow_trace SET status = 'completed', end_time = now() " +
                " WHERE id IN (SELECT id FROM workflow_trace WHERE workflow_id = $1 ORDER BY id LIMIT 5)", workflow.Id);

        var log = new BatchLog();
        await using (var worker = Worker(log))
        {
            _ = worker.Services;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!log.Batches.Any(b => b.OperationId == id && b.Status == "completed") && DateTime.UtcNow < deadline)
                await Task.Delay(100);
        }
        var finished = await OperationRowAsync(id);
        Assert.Equal("completed", finished["status"]);
        Assert.Equal(15, finished["done"]);
        Assert.Equal(5, finished["failed"]);
        await using var check = await FreshWorkflow.OwnerAsync(api);
        var failures = await check.RowsAsync(
            "SELECT r.outcome, r.error, t.status::text AS status FROM bulk_operation_runs r JOIN workflow_trace t ON t.id = r.trace_id " +
            " WHERE r.operation_id = $1", id);
        Assert.Equal(5, failures.Count);
        Assert.All(failures, f =>
        {
            Assert.Equal("failed", f["outcome"]);
            Assert.Equal("the run is already completed", f["error"]);
            Assert.Equal("completed", f["status"]);
        });
    }

    [Fact]
    public async Task A_lease_held_by_a_live_instance_is_not_taken_and_an_expired_one_is()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        await AddRunsAsync(workflow, 10);
        var id = (await CancelAsync(workflow)).GetProperty("operation").GetProperty("rowId").GetInt64();

        await using var conn = await FreshWorkflow.OwnerAsync(api);
        await using var tx = await conn.BeginTransactionAsync();
        await conn.BecomeTenantAsync(null);
        // other open operations of this class's database may exist: claim until ours comes up, bounded
        async Task<long?> ClaimOursAsync(string worker)
        {
            for (var i = 0; i < 20; i++)
            {
                var claimed = await conn.ScalarAsync<long?>("SELECT operation_id FROM claim_bulk_operation($1, 60)", worker);
                if (claimed is null or 0 || claimed == id)
                    return claimed is 0 ? null : claimed;
            }
            return null;
        }
        Assert.Equal(id, await ClaimOursAsync("instance-a"));
        Assert.Null(await ClaimOursAsync("instance-b"));
        await conn.ExecAsync("RESET ROLE");
        await conn.ExecAsync("UPDATE bulk_operations SET lease_expires_at = now() - interval '1 second' WHERE id = $1", id);
        await conn.BecomeTenantAsync(null);
        Assert.Equal(id, await ClaimOursAsync("instance-b"));
        // the first instance has lost it: its next batch is refused
        await conn.BecomeTenantAsync(workflow.OrgId);
        var lost = await conn.FailsAsync("SELECT * FROM run_bulk_operation_batch($1, 'instance-a', 10, 60)", id);
        Assert.Equal("WF002", lost.SqlState);
        await tx.RollbackAsync();
    }

    [Fact]
    public async Task A_filter_matching_more_runs_than_the_limit_is_refused_dry_run_or_not()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        await AddRunsAsync(workflow, WorkerlessApiFixture.MaxBulkRuns + 1);
        foreach (var dryRun in new[] { true, false })
        {
            var refused = await CancelAsync(workflow, dryRun);
            Assert.Equal("ValidationError", ErrorType(refused));
            Assert.Equal("where", ErrorField(refused));
            Assert.Contains("more than 1000 runs", refused.GetProperty("errors")[0].GetProperty("message").GetString());
        }
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        Assert.Equal(0L, await conn.ScalarAsync<long>(
            "SELECT count(*) FROM bulk_operations WHERE org_id = $1 AND reason = 'restart drill' AND total > $2",
            workflow.OrgId, WorkerlessApiFixture.MaxBulkRuns));
        Assert.Equal((long)WorkerlessApiFixture.MaxBulkRuns + 1, await conn.ScalarAsync<long>(
            "SELECT count(*) FROM workflow_trace WHERE workflow_id = $1 AND status = 'pending'", workflow.Id));
    }
}
