using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Tests.Telemetry;
using WorkflowGraph.Traces;
using static WorkflowGraph.Tests.Mutations.PayloadErrors;

namespace WorkflowGraph.Tests.Mutations;

/// <summary>Every batch the fixture's worker committed, in order.</summary>
public sealed class BatchLog : IBulkBatchObserver
{
    public ConcurrentQueue<BulkBatchResult> Batches { get; } = new();

    public Task AfterBatchAsync(BulkBatchResult result, CancellationToken cancellationToken)
    {
        Batches.Enqueue(result);
        return Task.CompletedTask;
    }
}

/// <summary>The API with its bulk operation worker polling often and logging its batches (500 runs each).</summary>
public sealed class BulkApiFixture : GraphApiFixture
{
    public BatchLog Batches { get; } = new();

    protected override void ConfigureHost(IWebHostBuilder host) => host
        .UseSetting("Execution:BulkPollSeconds", "0.2")
        .UseSetting("Execution:BulkBatchSize", "500")
        .ConfigureTestServices(services => services.AddSingleton<IBulkBatchObserver>(Batches));
}

/// <summary>
/// Bulk cancel and re-run through the API: dry runs, refused filters, tenancy, and a cancel over 100,000 runs worked in
/// batches. Each test makes its own workflows and runs (one INSERT … SELECT), and counts only those.
/// </summary>
public sealed class BulkOperationTests(BulkApiFixture api) : IClassFixture<BulkApiFixture>
{
    private const string Errors = "errors { __typename ... on Error { message } ... on ValidationError { fields { field message } } }";
    private const string OperationFields =
        "id rowId kind status reason mode strategy channel total done failed requestedBy requestedAt startedAt finishedAt";

    private const string BulkCancel = $$"""
        mutation ($where: WorkflowTraceFilterInput!, $reason: String!, $mode: CancelMode, $dryRun: Boolean) {
          bulkCancelWorkflowExecutions(input: { where: $where, reason: $reason, mode: $mode, dryRun: $dryRun }) {
            operation { {{OperationFields}} }
            matched
            sample { id rowId status }
            {{Errors}}
          }
        }
        """;

    private const string BulkRerun = $$"""
        mutation ($where: WorkflowTraceFilterInput!, $strategy: RerunStrategy!, $channel: WorkflowChannel, $reason: String!,
                  $dryRun: Boolean) {
          bulkRerunWorkflowExecutions(input: { where: $where, strategy: $strategy, channel: $channel, reason: $reason,
                                               dryRun: $dryRun }) {
            operation { {{OperationFields}} }
            matched
            sample { id status }
            {{Errors}}
          }
        }
        """;

    private const string OperationById = $"query ($id: ID!) {{ bulkOperation(id: $id) {{ {OperationFields} }} }}";

    private async Task<JsonElement> RunAsync(Guid org, string query, object variables, string field,
        TenantRole role = TenantRole.Operator)
    {
        var response = await api.PostAsync(query, variables, org, role: role);
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        return response.Data.GetProperty(field);
    }

    /// <summary>Inserts <paramref name="count"/> runs of <paramref name="workflow"/> in one statement.</summary>
    private async Task AddRunsAsync(FreshWorkflow workflow, int count, string status = "pending")
    {
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        await conn.ExecAsync(
            "INSERT INTO workflow_trace (org_id, workflow_id, channel, status, start_time, end_time) " +
            "SELECT $1, $2, 'web', $3::text, now() - make_interval(secs => g), " +
            "       CASE WHEN $3::text IN ('pending', 'active') THEN NULL ELSE now() END " +
            "  FROM generate_series(1, $4) g",
            workflow.OrgId, workflow.Id, status, count);
    }

    private async Task<Dictionary<string, long>> StatusesAsync(FreshWorkflow workflow)
    {
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        var rows = await conn.RowsAsync(
            "SELECT status::text AS status, count(*) AS n FROM workflow_trace WHERE workflow_id = $1 GROUP BY 1", workflow.Id);
        return rows.ToDictionary(r => (string)r["status"]!, r => (long)r["n"]!);
    }

    private static object ByWorkflow(FreshWorkflow workflow) => new { workflowId = new { eq = Ids.Workflow(workflow.Id) } };

    /// <summary>
    /// Polls until the operation reads COMPLETED and the worker has also logged its last batch: the worker records its
    /// metrics and tells its observers after the batch's commit, which a reader may see first.
    /// </summary>
    private async Task<JsonElement> WaitForCompletionAsync(Guid org, string id, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var operation = await RunAsync(org, OperationById, new { id }, "bulkOperation", TenantRole.Viewer);
            var rowId = operation.GetProperty("rowId").GetInt64();
            var completed = operation.GetProperty("status").GetString() == "COMPLETED"
                            && api.Batches.Batches.Any(b => b.OperationId == rowId && b.Status == "completed");
            if (completed || DateTime.UtcNow > deadline)
                return operation;
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task A_dry_run_counts_and_samples_the_matching_runs_and_writes_nothing()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        await AddRunsAsync(workflow, 25);
        await AddRunsAsync(workflow, 5, "completed");

        var dry = await RunAsync(workflow.OrgId, BulkCancel,
            new { where = ByWorkflow(workflow), reason = "payer outage", dryRun = true }, "bulkCancelWorkflowExecutions");

        Assert.Null(ErrorType(dry));
        Assert.Equal(JsonValueKind.Null, dry.GetProperty("operation").ValueKind);
        Assert.Equal(25, dry.GetProperty("matched").GetInt32());
        var sample = dry.GetProperty("sample").EnumerateArray().ToList();
        Assert.Equal(10, sample.Count);
        Assert.All(sample, run => Assert.Equal("PENDING", run.GetProperty("status").GetString()));
        var keys = sample.Select(run => run.GetProperty("rowId").GetInt64()).ToList();
        Assert.Equal(keys.Order(), keys);

        var rerun = await RunAsync(workflow.OrgId, BulkRerun,
            new { where = ByWorkflow(workflow), strategy = "ALL_STEPS", reason = "payer outage", dryRun = true },
            "bulkRerunWorkflowExecutions");
        Assert.Equal(5, rerun.GetProperty("matched").GetInt32());
        Assert.All(rerun.GetProperty("sample").EnumerateArray(), run => Assert.Equal("COMPLETED", run.GetProperty("status").GetString()));

        Assert.Equal(new Dictionary<string, long> { ["pending"] = 25, ["completed"] = 5 }, await StatusesAsync(workflow));
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        Assert.Equal(0L, await conn.ScalarAsync<long>(
            "SELECT count(*) FROM bulk_operations WHERE org_id = $1 AND reason = 'payer outage'", workflow.OrgId));
        Assert.Equal(0L, await conn.ScalarAsync<long>(
            "SELECT count(*) FROM workflow_events e JOIN workflow_trace t ON t.id = e.trace_id WHERE t.workflow_id = $1",
            workflow.Id));
    }

    [Fact]
    public async Task Empty_match_all_and_bad_requests_are_typed_errors_and_write_nothing()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        await AddRunsAsync(workflow, 3);
        async Task<JsonElement> Cancel(object where, string reason = "outage") =>
            await RunAsync(workflow.OrgId, BulkCancel, new { where, reason }, "bulkCancelWorkflowExecutions");

        foreach (var empty in new object[] { new { }, new { status = new { } }, new { and = Array.Empty<object>() } })
        {
            var refused = await Cancel(empty);
            Assert.Equal("ValidationError", ErrorType(refused));
            Assert.Equal("where", ErrorField(refused));
            Assert.Equal(JsonValueKind.Null, refused.GetProperty("operation").ValueKind);
        }
        // a filter that constrains in form but leaves out no run of the organisation
        var everything = await Cancel(new { rowId = new { gt = 0 } });
        Assert.Equal("where", ErrorField(everything));
        Assert.Contains("every run", everything.GetProperty("errors")[0].GetProperty("message").GetString());

        Assert.Equal("reason", ErrorField(await Cancel(ByWorkflow(workflow), reason: " ")));
        Assert.Equal("reason", ErrorField(await Cancel(ByWorkflow(workflow), reason: new string('x', 1001))));
        // nothing to act on: the runs are pending, and only finished runs are re-run
        var nothing = await RunAsync(workflow.OrgId, BulkRerun,
            new { where = ByWorkflow(workflow), strategy = "FROM_FAILURE", reason = "outage" }, "bulkRerunWorkflowExecutions");
        Assert.Equal("where", ErrorField(nothing));

        var unknownField = await api.PostAsync(BulkCancel, new { where = new { nope = new { eq = 1 } }, reason = "x" }, workflow.OrgId,
            role: TenantRole.Operator);
        Assert.NotEmpty(unknownField.ErrorCodes);
        var viewer = await api.PostAsync(BulkCancel, new { where = ByWorkflow(workflow), reason = "x" }, workflow.OrgId,
            role: TenantRole.Viewer);
        Assert.Contains("FORBIDDEN", viewer.ErrorCodes);

        Assert.Equal(new Dictionary<string, long> { ["pending"] = 3 }, await StatusesAsync(workflow));
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        Assert.Equal(0L, await conn.ScalarAsync<long>(
            "SELECT count(*) FROM bulk_operation_runs r JOIN workflow_trace t ON t.id = r.trace_id WHERE t.workflow_id = $1",
            workflow.Id));
    }

    [Fact]
    public async Task Another_organisations_operation_and_runs_are_out_of_reach()
    {
        var mine = await FreshWorkflow.CreateAsync(api);
        var theirs = await FreshWorkflow.CreateAsync(api, GraphApiFixture.OrgB);
        await AddRunsAsync(mine, 4);
        await AddRunsAsync(theirs, 4);

        // their workflow's runs do not match a filter of ours
        var across = await RunAsync(mine.OrgId, BulkCancel,
            new { where = ByWorkflow(theirs), reason = "outage", dryRun = true }, "bulkCancelWorkflowExecutions");
        Assert.Equal(0, across.GetProperty("matched").GetInt32());

        var theirOperation = await RunAsync(theirs.OrgId, BulkCancel,
            new { where = ByWorkflow(theirs), reason = "their outage", mode = "IMMEDIATE" }, "bulkCancelWorkflowExecutions");
        Assert.Null(ErrorType(theirOperation));
        var id = theirOperation.GetProperty("operation").GetProperty("id").GetString()!;
        Assert.Equal("CANCEL", theirOperation.GetProperty("operation").GetProperty("kind").GetString());
        Assert.Equal(4, theirOperation.GetProperty("operation").GetProperty("total").GetInt32());

        Assert.Equal(JsonValueKind.Null, (await RunAsync(mine.OrgId, OperationById, new { id }, "bulkOperation")).ValueKind);
        Assert.Equal(JsonValueKind.Null,
            (await RunAsync(mine.OrgId, "query ($id: ID!) { node(id: $id) { id } }", new { id }, "node")).ValueKind);
        var listed = await RunAsync(mine.OrgId, "{ bulkOperations(first: 100) { nodes { id } } }", new { }, "bulkOperations");
        Assert.DoesNotContain(listed.GetProperty("nodes").EnumerateArray(), n => n.GetProperty("id").GetString() == id);
        var node = await RunAsync(theirs.OrgId, "query ($id: ID!) { node(id: $id) { ... on BulkOperation { reason } } }", new { id },
            "node");
        Assert.Equal("their outage", node.GetProperty("reason").GetString());

        await WaitForCompletionAsync(theirs.OrgId, id, TimeSpan.FromSeconds(60));
        Assert.Equal(new Dictionary<string, long> { ["pending"] = 4 }, await StatusesAsync(mine));
        Assert.Equal(new Dictionary<string, long> { ["cancelled"] = 4 }, await StatusesAsync(theirs));
    }

    [Fact]
    public async Task A_bulk_rerun_queues_one_rerun_per_failed_run_on_the_new_channel()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        await AddRunsAsync(workflow, 30, "failed");
        await AddRunsAsync(workflow, 2, "completed");

        var requested = await RunAsync(workflow.OrgId, BulkRerun,
            new { where = ByWorkflow(workflow), strategy = "FROM_FAILURE", channel = "VOICE", reason = "portal down: call instead" },
            "bulkRerunWorkflowExecutions");
        Assert.Null(ErrorType(requested));
        Assert.Equal(30, requested.GetProperty("matched").GetInt32());
        var operation = await WaitForCompletionAsync(workflow.OrgId, requested.GetProperty("operation").GetProperty("id").GetString()!,
            TimeSpan.FromSeconds(60));
        Assert.Equal("COMPLETED", operation.GetProperty("status").GetString());
        Assert.Equal(30, operation.GetProperty("done").GetInt32());
        Assert.Equal("FROM_FAILURE", operation.GetProperty("strategy").GetString());
        Assert.Equal("VOICE", operation.GetProperty("channel").GetString());

        await using var conn = await FreshWorkflow.OwnerAsync(api);
        var reruns = await conn.RowsAsync(
            "SELECT r.channel::text AS channel, r.status::text AS status, r.attempt, p.status::text AS parent_status " +
            "  FROM workflow_trace r JOIN workflow_trace p ON p.id = r.parent_trace_id WHERE r.workflow_id = $1", workflow.Id);
        Assert.Equal(30, reruns.Count);
        Assert.True(await MetricScrape.ValueAsync(api.Client, "workflowgraph_bulk_runs_total", "kind=\"rerun\"", "outcome=\"done\"") >= 30);
        Assert.All(reruns, r =>
        {
            Assert.Equal("voice", r["channel"]);
            Assert.Equal("pending", r["status"]);
            Assert.Equal(2, r["attempt"]);
            Assert.Equal("failed", r["parent_status"]);
        });
    }

    [Fact]
    public async Task A_bulk_cancel_of_100k_runs_completes_in_batches_and_leaves_other_runs_alone()
    {
        const int runs = 100_000;
        var workflow = await FreshWorkflow.CreateAsync(api);
        var neighbour = await FreshWorkflow.CreateAsync(api);
        var theirs = await FreshWorkflow.CreateAsync(api, GraphApiFixture.OrgB);
        await AddRunsAsync(workflow, runs);
        await AddRunsAsync(neighbour, 50);
        await AddRunsAsync(theirs, 50);

        var requested = await RunAsync(workflow.OrgId, BulkCancel,
            new { where = ByWorkflow(workflow), reason = "payer portal outage", mode = "IMMEDIATE" }, "bulkCancelWorkflowExecutions");
        Assert.Null(ErrorType(requested));
        Assert.Equal(runs, requested.GetProperty("matched").GetInt32());
        var id = requested.GetProperty("operation").GetProperty("id").GetString()!;
        var rowId = requested.GetProperty("operation").GetProperty("rowId").GetInt64();

        var operation = await WaitForCompletionAsync(workflow.OrgId, id, TimeSpan.FromSeconds(240));
        Assert.Equal("COMPLETED", operation.GetProperty("status").GetString());
        Assert.Equal(runs, operation.GetProperty("done").GetInt32());
        Assert.Equal(0, operation.GetProperty("failed").GetInt32());
        Assert.Equal(GraphApiFixture.UserA.ToString(), operation.GetProperty("requestedBy").GetString());
        Assert.NotEqual(JsonValueKind.Null, operation.GetProperty("finishedAt").ValueKind);

        // progress: one committed batch of at most 500 runs after another
        var batches = api.Batches.Batches.Where(b => b.OperationId == rowId).ToList();
        Assert.Equal(runs / 500, batches.Count);
        Assert.Equal(Enumerable.Range(1, batches.Count).Select(i => i * 500), batches.Select(b => b.Done));
        Assert.Equal("completed", batches[^1].Status);

        Assert.Equal(new Dictionary<string, long> { ["cancelled"] = runs }, await StatusesAsync(workflow));
        Assert.Equal(new Dictionary<string, long> { ["pending"] = 50 }, await StatusesAsync(neighbour));
        Assert.Equal(new Dictionary<string, long> { ["pending"] = 50 }, await StatusesAsync(theirs));
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        var events = await conn.RowsAsync(
            "SELECT count(*) AS events, count(DISTINCT e.trace_id) AS traces, " +
            "       count(*) FILTER (WHERE e.event_data ->> 'reason' = 'payer portal outage') AS with_reason " +
            "  FROM workflow_events e JOIN workflow_trace t ON t.id = e.trace_id " +
            " WHERE t.workflow_id = $1 AND e.event_type = 'workflow_cancelled'", workflow.Id);
        Assert.Equal((long)runs, events[0]["events"]);
        Assert.Equal((long)runs, events[0]["traces"]);
        Assert.Equal((long)runs, events[0]["with_reason"]);
    }
}
