using System.Collections.Concurrent;
using System.Text.Json;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;
using static WorkflowGraph.Tests.Mutations.PayloadErrors;

namespace WorkflowGraph.Tests.Mutations;

/// <summary>
/// Run control over HTTP: enqueue, claim, heartbeat and cancel, their typed errors and their tenancy. Every test
/// claims only from workflows it created (workflowIds), so the fixture's other pending runs never interfere.
/// </summary>
public sealed class RunControlMutationTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    private const string Errors = "errors { __typename ... on Error { message } ... on ValidationError { fields { field message } } }";
    private const string TraceFields =
        "id rowId status priority notBefore workerName leaseExpiresAt claimedAt cancelRequestedAt cancelReason attempt";

    private const string Enqueue = $$"""
        mutation ($workflowId: ID!, $channel: WorkflowChannel!, $externalId: String, $context: JSON, $priority: Int, $notBefore: DateTime) {
          enqueueWorkflowExecution(input: { workflowId: $workflowId, channel: $channel, externalId: $externalId, context: $context,
                                            priority: $priority, notBefore: $notBefore }) {
            trace { {{TraceFields}} context { key value } }
            {{Errors}}
          }
        }
        """;
    private const string Claim = $$"""
        mutation ($channels: [WorkflowChannel!]!, $workflowIds: [ID!], $workerName: String!, $leaseSeconds: Int!) {
          claimWorkflowExecution(input: { channels: $channels, workflowIds: $workflowIds, workerName: $workerName,
                                          leaseSeconds: $leaseSeconds }) {
            trace { {{TraceFields}} }
            {{Errors}}
          }
        }
        """;
    private const string Heartbeat = $$"""
        mutation ($traceId: ID!, $leaseSeconds: Int!, $workerName: String) {
          heartbeatWorkflowExecution(input: { traceId: $traceId, leaseSeconds: $leaseSeconds, workerName: $workerName }) {
            cancelRequested
            trace { id leaseExpiresAt }
            {{Errors}}
          }
        }
        """;
    private const string Cancel = $$"""
        mutation ($traceId: ID!, $reason: String!, $mode: CancelMode) {
          cancelWorkflowExecution(input: { traceId: $traceId, reason: $reason, mode: $mode }) {
            trace { {{TraceFields}} steps { stepNumber status } events { eventType eventData } }
            {{Errors}}
          }
        }
        """;
    private const string StartStep = $$"""
        mutation ($traceId: ID!, $nodeId: ID!, $n: Int!) {
          startWorkflowStep(input: { traceId: $traceId, nodeId: $nodeId, stepNumber: $n }) { step { rowId } {{Errors}} }
        }
        """;
    private const string SetContext = $$"""
        mutation ($traceId: ID!) {
          setWorkflowContext(input: { traceId: $traceId, key: "k", value: 1 }) { entry { key } {{Errors}} }
        }
        """;
    private const string CompleteRun = $$"""
        mutation ($traceId: ID!, $status: TraceStatus!) {
          completeWorkflowExecution(input: { traceId: $traceId, status: $status }) { trace { status } {{Errors}} }
        }
        """;

    private async Task<JsonElement> RunAsync(Guid org, string query, object variables, string field)
    {
        var response = await api.PostAsync(query, variables, org, role: TenantRole.Operator);
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        return response.Data.GetProperty(field);
    }

    private async Task<JsonElement> EnqueueAsync(FreshWorkflow workflow, object? extra = null)
    {
        var payload = await RunAsync(workflow.OrgId, Enqueue,
            Variables(new { workflowId = Ids.Workflow(workflow.Id), channel = "WEB" }, extra), "enqueueWorkflowExecution");
        Assert.Null(ErrorType(payload));
        return payload.GetProperty("trace");
    }

    private Task<JsonElement> ClaimAsync(FreshWorkflow workflow, string worker = "bot-1", int lease = 120, Guid? org = null) =>
        RunAsync(org ?? workflow.OrgId, Claim,
            new
            {
                channels = new[] { "WEB" },
                workflowIds = new[] { Ids.Workflow(workflow.Id) },
                workerName = worker,
                leaseSeconds = lease,
            }, "claimWorkflowExecution");

    private static Dictionary<string, object?> Variables(object basic, object? extra)
    {
        var all = JsonSerializer.Deserialize<Dictionary<string, object?>>(JsonSerializer.Serialize(basic))!;
        if (extra is not null)
            foreach (var (key, value) in JsonSerializer.Deserialize<Dictionary<string, object?>>(JsonSerializer.Serialize(extra))!)
                all[key] = value;
        return all;
    }

    private static string Text(JsonElement element, string property) => element.GetProperty(property).GetString()!;

    [Fact]
    public async Task Enqueue_queues_a_pending_run_with_its_context_once_per_external_id()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        var trace = await EnqueueAsync(workflow, new { externalId = "Q-1", context = new { payer = "Aetna", member = 7 }, priority = 5 });
        Assert.Equal("PENDING", Text(trace, "status"));
        Assert.Equal(5, trace.GetProperty("priority").GetInt32());
        Assert.Equal(1, trace.GetProperty("attempt").GetInt32());
        Assert.Equal(["member", "payer"], trace.GetProperty("context").EnumerateArray().Select(e => Text(e, "key")));
        var again = await EnqueueAsync(workflow, new { externalId = "Q-1", priority = 9 });
        Assert.Equal(Text(trace, "id"), Text(again, "id"));
        Assert.Equal(5, again.GetProperty("priority").GetInt32());
    }

    [Fact]
    public async Task Bad_enqueues_are_typed_errors_and_write_nothing()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        var other = await FreshWorkflow.CreateAsync(api, GraphApiFixture.OrgB);
        async Task<JsonElement> Try(object variables) =>
            await RunAsync(workflow.OrgId, Enqueue, Variables(new { workflowId = Ids.Workflow(workflow.Id), channel = "WEB" }, variables),
                "enqueueWorkflowExecution");

        var priority = await Try(new { priority = 1001 });
        Assert.Equal("ValidationError", ErrorType(priority));
        Assert.Equal("priority", ErrorField(priority));
        Assert.Equal("context", ErrorField(await Try(new { context = new[] { 1, 2 } })));
        Assert.Equal("context", ErrorField(await Try(new { context = Enumerable.Range(0, 101).ToDictionary(i => $"k{i}", i => i) })));
        Assert.Equal("reason", ErrorField(await RunAsync(workflow.OrgId, Cancel,
            new { traceId = Ids.Trace(-1L), reason = new string('x', 1001) }, "cancelWorkflowExecution")));
        Assert.Equal("notBefore", ErrorField(await Try(new { notBefore = DateTime.UtcNow.AddYears(2).ToString("O") })));
        Assert.Equal("NotFoundError", ErrorType(await Try(new { workflowId = Ids.Workflow(other.Id) })));
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        Assert.Equal(0L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_trace WHERE workflow_id IN ($1, $2)",
            workflow.Id, other.Id));
    }

    [Fact]
    public async Task A_claim_takes_the_ready_run_under_a_lease_and_returns_null_when_nothing_is_ready()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        await EnqueueAsync(workflow, new { priority = 1 });
        var urgent = await EnqueueAsync(workflow, new { priority = 7 });
        await EnqueueAsync(workflow, new { priority = 100, notBefore = DateTime.UtcNow.AddHours(1).ToString("O") });

        var claimed = (await ClaimAsync(workflow, "bot-7", 90)).GetProperty("trace");
        Assert.Equal(Text(urgent, "id"), Text(claimed, "id"));
        Assert.Equal("ACTIVE", Text(claimed, "status"));
        Assert.Equal("bot-7", Text(claimed, "workerName"));
        var lease = claimed.GetProperty("leaseExpiresAt").GetDateTimeOffset() - claimed.GetProperty("claimedAt").GetDateTimeOffset();
        Assert.Equal(TimeSpan.FromSeconds(90), lease);

        Assert.Equal(JsonValueKind.Object, (await ClaimAsync(workflow)).GetProperty("trace").ValueKind);
        var empty = await ClaimAsync(workflow);
        Assert.Equal(JsonValueKind.Null, empty.GetProperty("trace").ValueKind);
        Assert.Equal(JsonValueKind.Null, empty.GetProperty("errors").ValueKind);
    }

    [Fact]
    public async Task A_claim_never_reaches_another_organisations_queue()
    {
        var theirs = await FreshWorkflow.CreateAsync(api, GraphApiFixture.OrgB);
        var run = await EnqueueAsync(theirs);
        var claim = await ClaimAsync(theirs, org: GraphApiFixture.OrgA);
        Assert.Equal(JsonValueKind.Null, claim.GetProperty("trace").ValueKind);
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        Assert.Equal("pending", await conn.ScalarAsync<string>("SELECT status FROM workflow_trace WHERE id = $1",
            Ids.TraceKey(run.GetProperty("id"))));
        // and its own organisation takes it
        Assert.Equal(Text(run, "id"), Text((await ClaimAsync(theirs)).GetProperty("trace"), "id"));
    }

    [Fact]
    public async Task Bad_claims_are_typed_errors_and_claim_nothing()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        var run = await EnqueueAsync(workflow);
        async Task<JsonElement> Try(object variables) => await RunAsync(workflow.OrgId, Claim,
            Variables(new
            {
                channels = new[] { "WEB" },
                workflowIds = new[] { Ids.Workflow(workflow.Id) },
                workerName = "w",
                leaseSeconds = 60,
            }, variables), "claimWorkflowExecution");

        Assert.Equal("leaseSeconds", ErrorField(await Try(new { leaseSeconds = 0 })));
        Assert.Equal("leaseSeconds", ErrorField(await Try(new { leaseSeconds = 3601 })));
        Assert.Equal("channels", ErrorField(await Try(new { channels = Array.Empty<string>() })));
        Assert.Equal("workerName", ErrorField(await Try(new { workerName = "" })));
        Assert.Equal("workflowIds", ErrorField(await Try(new
        {
            workflowIds = Enumerable.Range(0, 101).Select(_ => Ids.Workflow(Guid.NewGuid())).ToArray(),
        })));
        var wrongType = await api.PostAsync(Claim,
            new { channels = new[] { "WEB" }, workflowIds = new[] { Text(run, "id") }, workerName = "w", leaseSeconds = 60 },
            workflow.OrgId, role: TenantRole.Operator);
        Assert.Contains("INVALID_ID", wrongType.ErrorCodes);
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        Assert.Equal("pending", await conn.ScalarAsync<string>("SELECT status FROM workflow_trace WHERE id = $1",
            Ids.TraceKey(run.GetProperty("id"))));
    }

    [Fact]
    public async Task A_heartbeat_extends_the_lease_and_refuses_once_the_lease_is_lost()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        await EnqueueAsync(workflow);
        var claimed = (await ClaimAsync(workflow, "bot-a", 30)).GetProperty("trace");
        var id = Text(claimed, "id");

        var beat = await RunAsync(workflow.OrgId, Heartbeat, new { traceId = id, leaseSeconds = 600, workerName = "bot-a" },
            "heartbeatWorkflowExecution");
        Assert.Null(ErrorType(beat));
        Assert.False(beat.GetProperty("cancelRequested").GetBoolean());
        Assert.True(beat.GetProperty("trace").GetProperty("leaseExpiresAt").GetDateTimeOffset()
                    > claimed.GetProperty("leaseExpiresAt").GetDateTimeOffset());

        async Task<JsonElement> Beat(object variables, Guid? org = null) =>
            await RunAsync(org ?? workflow.OrgId, Heartbeat, variables, "heartbeatWorkflowExecution");
        Assert.Equal("leaseSeconds", ErrorField(await Beat(new { traceId = id, leaseSeconds = -5 })));
        Assert.Equal("leaseSeconds", ErrorField(await Beat(new { traceId = id, leaseSeconds = 7200 })));
        var stranger = await Beat(new { traceId = id, leaseSeconds = 60, workerName = "bot-b" });
        Assert.Equal("InvalidStateError", ErrorType(stranger));
        Assert.Equal("NotFoundError", ErrorType(await Beat(new { traceId = id, leaseSeconds = 60 }, GraphApiFixture.OrgB)));

        // the lease ran out (the sweeper may be ending the run): the worker has lost it
        await using (var conn = await FreshWorkflow.OwnerAsync(api))
            await conn.ExecAsync("UPDATE workflow_trace SET lease_expires_at = now() - interval '1 second' WHERE id = $1",
                Ids.TraceKey(claimed.GetProperty("id")));
        var late = await Beat(new { traceId = id, leaseSeconds = 60 });
        // (the service's sweeper may have ended the run meanwhile: the refusal is the same)
        Assert.Equal("InvalidStateError", ErrorType(late));
        Assert.Equal(JsonValueKind.Null, late.GetProperty("cancelRequested").ValueKind);
    }

    [Fact]
    public async Task A_graceful_cancel_reaches_the_worker_through_its_heartbeat_and_the_worker_ends_the_run()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        await EnqueueAsync(workflow);
        var id = Text((await ClaimAsync(workflow)).GetProperty("trace"), "id");

        var cancel = await RunAsync(workflow.OrgId, Cancel, new { traceId = id, reason = "payer portal rate limit", mode = "GRACEFUL" },
            "cancelWorkflowExecution");
        Assert.Null(ErrorType(cancel));
        Assert.Equal("ACTIVE", Text(cancel.GetProperty("trace"), "status"));
        Assert.Equal("payer portal rate limit", Text(cancel.GetProperty("trace"), "cancelReason"));
        var requested = cancel.GetProperty("trace").GetProperty("events").EnumerateArray().Last();
        Assert.Equal("workflow_cancel_requested", Text(requested, "eventType"));
        Assert.Equal(GraphApiFixture.UserA.ToString(), requested.GetProperty("eventData").GetProperty("requested_by").GetString());

        var beat = await RunAsync(workflow.OrgId, Heartbeat, new { traceId = id, leaseSeconds = 60 }, "heartbeatWorkflowExecution");
        Assert.True(beat.GetProperty("cancelRequested").GetBoolean());
        var ended = await RunAsync(workflow.OrgId, CompleteRun, new { traceId = id, status = "CANCELLED" }, "completeWorkflowExecution");
        Assert.Equal("CANCELLED", Text(ended.GetProperty("trace"), "status"));
    }

    [Fact]
    public async Task An_immediate_cancel_ends_the_run_and_its_steps_and_the_run_refuses_further_writes()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        await EnqueueAsync(workflow);
        var id = Text((await ClaimAsync(workflow)).GetProperty("trace"), "id");
        var step = await RunAsync(workflow.OrgId, StartStep, new { traceId = id, nodeId = Ids.Node(workflow.Nodes[0]), n = 1 },
            "startWorkflowStep");
        Assert.Null(ErrorType(step));

        var cancel = await RunAsync(workflow.OrgId, Cancel, new { traceId = id, reason = "wrong payer", mode = "IMMEDIATE" },
            "cancelWorkflowExecution");
        var trace = cancel.GetProperty("trace");
        Assert.Equal("CANCELLED", Text(trace, "status"));
        Assert.Equal("CANCELLED", Text(trace.GetProperty("steps")[0], "status"));
        var last = trace.GetProperty("events").EnumerateArray().Last();
        Assert.Equal("workflow_cancelled", Text(last, "eventType"));
        Assert.Equal("immediate", last.GetProperty("eventData").GetProperty("mode").GetString());
        Assert.Equal("wrong payer", last.GetProperty("eventData").GetProperty("reason").GetString());

        Assert.Equal("InvalidStateError", ErrorType(await RunAsync(workflow.OrgId, StartStep,
            new { traceId = id, nodeId = Ids.Node(workflow.Nodes[1]), n = 2 }, "startWorkflowStep")));
        Assert.Equal("InvalidStateError",
            ErrorType(await RunAsync(workflow.OrgId, SetContext, new { traceId = id }, "setWorkflowContext")));
        Assert.Equal("InvalidStateError", ErrorType(await RunAsync(workflow.OrgId, Heartbeat, new { traceId = id, leaseSeconds = 60 },
            "heartbeatWorkflowExecution")));
        Assert.Equal("InvalidStateError", ErrorType(await RunAsync(workflow.OrgId, Cancel, new { traceId = id, reason = "again" },
            "cancelWorkflowExecution")));
    }

    [Fact]
    public async Task A_pending_run_is_cancelled_at_once_and_another_organisation_cannot_cancel_it()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        var id = Text(await EnqueueAsync(workflow), "id");

        var foreign = await RunAsync(GraphApiFixture.OrgB, Cancel, new { traceId = id, reason = "not mine" }, "cancelWorkflowExecution");
        Assert.Equal("NotFoundError", ErrorType(foreign));
        Assert.Equal("ValidationError", ErrorType(await RunAsync(workflow.OrgId, Cancel, new { traceId = id, reason = " " },
            "cancelWorkflowExecution")));
        await using (var conn = await FreshWorkflow.OwnerAsync(api))
        {
            var key = long.Parse(Ids.KeyOf(id, "WorkflowTrace"));
            Assert.Equal("pending", await conn.ScalarAsync<string>("SELECT status FROM workflow_trace WHERE id = $1", key));
            Assert.Equal(1L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_events WHERE trace_id = $1", key));
        }

        var cancel = await RunAsync(workflow.OrgId, Cancel, new { traceId = id, reason = "duplicate request" }, "cancelWorkflowExecution");
        Assert.Equal("CANCELLED", Text(cancel.GetProperty("trace"), "status"));
        Assert.Equal(JsonValueKind.Null, (await ClaimAsync(workflow)).GetProperty("trace").ValueKind);
    }

    [Fact]
    public async Task Viewers_cannot_take_or_cancel_work()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        var id = Text(await EnqueueAsync(workflow), "id");
        var response = await api.PostAsync(Cancel, new { traceId = id, reason = "x" }, workflow.OrgId, role: TenantRole.Viewer);
        Assert.Contains("FORBIDDEN", response.ErrorCodes);
        response = await api.PostAsync(Claim, new { channels = new[] { "WEB" }, workerName = "v", leaseSeconds = 60 }, workflow.OrgId,
            role: TenantRole.Viewer);
        Assert.Contains("FORBIDDEN", response.ErrorCodes);
    }

    [Fact]
    public async Task Concurrent_claimers_over_the_api_never_share_a_run()
    {
        const int runs = 200;
        var workflow = await FreshWorkflow.CreateAsync(api);
        await using (var conn = await FreshWorkflow.OwnerAsync(api))
            await conn.ExecAsync("INSERT INTO workflow_trace (org_id, workflow_id, channel, status) " +
                                 "SELECT $1, $2, 'web', 'pending' FROM generate_series(1, $3)", workflow.OrgId, workflow.Id, runs);
        var claimed = new ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            while (true)
            {
                var trace = (await ClaimAsync(workflow, $"bot-{i}")).GetProperty("trace");
                if (trace.ValueKind == JsonValueKind.Null)
                    return;
                claimed.Add(Text(trace, "id"));
            }
        })));
        Assert.Equal(runs, claimed.Count);
        Assert.Equal(runs, claimed.Distinct().Count());
    }
}
