using System.Net;
using System.Text.Json;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;
using static WorkflowGraph.Tests.Mutations.PayloadErrors;

namespace WorkflowGraph.Tests.Mutations;

/// <summary>The execution mutations over HTTP: each calls its SQL function; failures are typed payload errors.</summary>
public sealed class ExecutionMutationTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    private const string Start = """
        mutation ($workflowId: ID!, $channel: WorkflowChannel!, $externalId: String, $snapshot: JSON) {
          startWorkflowExecution(
            input: { workflowId: $workflowId, channel: $channel, externalId: $externalId, configSnapshot: $snapshot }
          ) {
            trace { id rowId status channel externalId configSnapshot createdBy }
            errors { __typename ... on Error { message } }
          }
        }
        """;
    private const string StartStep = """
        mutation ($traceId: ID!, $nodeId: ID!, $n: Int!, $input: JSON) {
          startWorkflowStep(input: { traceId: $traceId, nodeId: $nodeId, stepNumber: $n, inputData: $input }) {
            step { id rowId status stepNumber inputData }
            errors { __typename ... on Error { message } ... on ValidationError { fields { field message } } }
          }
        }
        """;
    private const string CompleteStep = """
        mutation ($stepId: ID!, $status: StepStatus!, $output: JSON, $error: String) {
          completeWorkflowStep(input: { stepId: $stepId, status: $status, outputData: $output, errorMessage: $error }) {
            step { id rowId status outputData errorMessage retryCount durationMs }
            errors { __typename ... on Error { message } ... on ValidationError { fields { field message } } }
          }
        }
        """;
    private const string Retry = """
        mutation ($stepId: ID!) {
          retryWorkflowStep(input: { stepId: $stepId }) {
            step { id rowId status retryCount }
            errors { __typename ... on Error { message } }
          }
        }
        """;
    private const string SetContext = """
        mutation ($traceId: ID!, $key: String!, $value: JSON) {
          setWorkflowContext(input: { traceId: $traceId, key: $key, value: $value }) {
            trace { id context { key } }
            entry { id key value }
            errors { __typename ... on Error { message } ... on ValidationError { fields { field message } } }
          }
        }
        """;
    private const string Complete = """
        mutation ($traceId: ID!, $status: TraceStatus!, $error: String) {
          completeWorkflowExecution(input: { traceId: $traceId, status: $status, errorMessage: $error }) {
            trace { id rowId status errorMessage durationMs steps { stepNumber status } }
            errors { __typename ... on Error { message } ... on ValidationError { fields { field message } } }
          }
        }
        """;

    private static JsonElement Payload(GraphResponse response, string field)
    {
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        return response.Data.GetProperty(field);
    }

    /// <summary>Posts as an operator of the workflow's organisation; returns the payload of <paramref name="field"/>.</summary>
    private async Task<JsonElement> OperatorAsync(FreshWorkflow workflow, string query, object variables, string field) =>
        Payload(await api.PostAsync(query, variables, workflow.OrgId, role: TenantRole.Operator), field);

    private async Task<long> StartRunAsync(FreshWorkflow workflow, string? externalId = null, TenantRole role = TenantRole.Operator)
    {
        var variables = new { workflowId = Ids.Workflow(workflow.Id), channel = "WEB", externalId };
        var payload = Payload(await api.PostAsync(Start, variables, workflow.OrgId, role: role), "startWorkflowExecution");
        return payload.GetProperty("trace").GetProperty("rowId").GetInt64();
    }

    private async Task<long> StartStepAsync(FreshWorkflow workflow, long traceId, int n, object? input = null)
    {
        var variables = new { traceId = Ids.Trace(traceId), nodeId = Ids.Node(workflow.Nodes[n - 1]), n, input };
        var payload = await OperatorAsync(workflow, StartStep, variables, "startWorkflowStep");
        Assert.Null(ErrorType(payload));
        return payload.GetProperty("step").GetProperty("rowId").GetInt64();
    }

    [Fact]
    public async Task A_full_run_end_to_end_shows_in_the_views()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        var traceId = await StartRunAsync(workflow, "RUN-E2E");
        var context = await OperatorAsync(workflow, SetContext,
            new { traceId = Ids.Trace(traceId), key = "payer", value = new { name = "Aetna" } }, "setWorkflowContext");
        Assert.Equal("Aetna", context.GetProperty("entry").GetProperty("value").GetProperty("name").GetString());
        // the payload returns the run it changed (as it is now) beside the entry, both normalisable by id
        Assert.Equal(Ids.Trace(traceId), context.GetProperty("trace").GetProperty("id").GetString());
        Assert.Equal(["payer"],
            context.GetProperty("trace").GetProperty("context").EnumerateArray().Select(e => e.GetProperty("key").GetString()));
        Assert.Equal(Ids.Of("WorkflowContextEntry", $"{traceId}:payer"), context.GetProperty("entry").GetProperty("id").GetString());

        var first = await StartStepAsync(workflow, traceId, 1, new { member = "M1" });
        await OperatorAsync(workflow, CompleteStep,
            new { stepId = Ids.Step(first), status = "COMPLETED", output = new { ok = true } }, "completeWorkflowStep");
        var second = await StartStepAsync(workflow, traceId, 2);
        var failed = await OperatorAsync(workflow, CompleteStep,
            new { stepId = Ids.Step(second), status = "FAILED", error = "portal 503" }, "completeWorkflowStep");
        Assert.Equal("FAILED", failed.GetProperty("step").GetProperty("status").GetString());
        var retried = await OperatorAsync(workflow, Retry, new { stepId = Ids.Step(second) }, "retryWorkflowStep");
        Assert.Equal(1, retried.GetProperty("step").GetProperty("retryCount").GetInt32());
        Assert.Equal("RUNNING", retried.GetProperty("step").GetProperty("status").GetString());
        await OperatorAsync(workflow, CompleteStep,
            new { stepId = Ids.Step(second), status = "COMPLETED", output = new { ok = true } }, "completeWorkflowStep");
        var done = await OperatorAsync(workflow, Complete, new { traceId = Ids.Trace(traceId), status = "COMPLETED" },
            "completeWorkflowExecution");
        Assert.Equal("COMPLETED", done.GetProperty("trace").GetProperty("status").GetString());
        Assert.Equal(2, done.GetProperty("trace").GetProperty("steps").GetArrayLength());

        var views = await api.PostAsync($$"""
            {
              executionSummaries(where: { traceId: { eq: "{{Ids.Trace(traceId)}}" } }) {
                nodes { status totalSteps completedSteps failedSteps totalRetries }
              }
              channelPerformance(where: { workflowId: { eq: "{{Ids.Workflow(workflow.Id)}}" } }) {
                nodes { channel totalExecutions completedExecutions successRate }
              }
              nodeExecutionStats(where: { workflowId: { eq: "{{Ids.Workflow(workflow.Id)}}" } }, order: [{ nodeName: ASC }]) {
                nodes { nodeName totalExecutions totalRetries }
              }
              executionTimeline(first: 50, where: { traceId: { eq: "{{Ids.Trace(traceId)}}" } }) { nodes { eventType } }
            }
            """, org: workflow.OrgId, role: TenantRole.Viewer);
        var summary = views.Data.GetProperty("executionSummaries").GetProperty("nodes")[0];
        Assert.Equal("COMPLETED", summary.GetProperty("status").GetString());
        Assert.Equal(2, summary.GetProperty("totalSteps").GetInt64());
        Assert.Equal(2, summary.GetProperty("completedSteps").GetInt64());
        Assert.Equal(1, summary.GetProperty("totalRetries").GetInt64());
        var performance = views.Data.GetProperty("channelPerformance").GetProperty("nodes")[0];
        Assert.Equal(100.0, performance.GetProperty("successRate").GetDouble());
        var nodes = views.Data.GetProperty("nodeExecutionStats").GetProperty("nodes");
        Assert.Equal([1L, 1L, 0L], nodes.EnumerateArray().Select(n => n.GetProperty("totalExecutions").GetInt64()));
        Assert.Equal(
            [
                "workflow_started", "context_set", "step_started", "step_completed", "step_started", "step_failed", "step_retried",
                "step_completed", "workflow_completed",
            ],
            views.Data.GetProperty("executionTimeline").GetProperty("nodes").EnumerateArray()
                .Select(n => n.GetProperty("eventType").GetString()));
    }

    [Fact]
    public async Task Starting_twice_with_one_external_id_returns_the_same_run_with_the_callers_identity()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        var first = await StartRunAsync(workflow, "EXT-SAME");
        var second = await StartRunAsync(workflow, "EXT-SAME");
        Assert.Equal(first, second);
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        Assert.Equal(1L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_trace WHERE workflow_id = $1", workflow.Id));
        Assert.NotNull(await conn.ScalarAsync<Guid?>("SELECT created_by FROM workflow_trace WHERE id = $1", first));
    }

    [Fact]
    public async Task Each_named_error_comes_back_in_the_payload_and_nothing_is_written()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        var traceId = await StartRunAsync(workflow);
        var stepId = await StartStepAsync(workflow, traceId, 1);
        await OperatorAsync(workflow, CompleteStep, new { stepId = Ids.Step(stepId), status = "COMPLETED" }, "completeWorkflowStep");
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        var eventsBefore = await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_events WHERE trace_id = $1", traceId);

        Task<JsonElement> Run(string query, object variables, string field) => OperatorAsync(workflow, query, variables, field);
        async Task<string?> ErrorOf(string query, object variables, string field) => ErrorType(await Run(query, variables, field));

        var again = await Run(CompleteStep, new { stepId = Ids.Step(stepId), status = "COMPLETED" }, "completeWorkflowStep");
        Assert.Equal("InvalidStateError", ErrorType(again));
        Assert.Contains("already completed", again.GetProperty("errors")[0].GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Null, again.GetProperty("step").ValueKind);
        Assert.Equal("InvalidStateError", await ErrorOf(Retry, new { stepId = Ids.Step(stepId) }, "retryWorkflowStep"));
        Assert.Equal("DuplicateError", await ErrorOf(StartStep, new
        {
            traceId = Ids.Trace(traceId),
            nodeId = Ids.Node(workflow.Nodes[1]),
            n = 1
        }, "startWorkflowStep"));
        Assert.Equal("ValidationError", await ErrorOf(Complete, new { traceId = Ids.Trace(traceId), status = "ACTIVE" },
            "completeWorkflowExecution"));
        Assert.Equal("NotFoundError", await ErrorOf(Start, new { workflowId = Ids.Workflow(Guid.NewGuid()), channel = "WEB" },
            "startWorkflowExecution"));
        Assert.Equal("NotFoundError", await ErrorOf(Complete, new { traceId = Ids.Trace(-1L), status = "FAILED" },
            "completeWorkflowExecution"));
        Assert.Equal("NotFoundError",
            await ErrorOf(StartStep, new { traceId = Ids.Trace(-1L), nodeId = Ids.Node(workflow.Nodes[0]), n = 9 }, "startWorkflowStep"));
        Assert.Equal("NotFoundError", await ErrorOf(StartStep, new { traceId = Ids.Trace(traceId), nodeId = Ids.Node(999999), n = 9 },
            "startWorkflowStep"));
        Assert.Equal("NotFoundError", await ErrorOf(CompleteStep, new { stepId = Ids.Step(-1L), status = "COMPLETED" },
            "completeWorkflowStep"));
        Assert.Equal("NotFoundError", await ErrorOf(Retry, new { stepId = Ids.Step(-1L) }, "retryWorkflowStep"));
        Assert.Equal("NotFoundError", await ErrorOf(SetContext, new { traceId = Ids.Trace(-1L), key = "k", value = 1 },
            "setWorkflowContext"));
        Assert.Equal("ValidationError", await ErrorOf(SetContext, new { traceId = Ids.Trace(traceId), key = "", value = 1 },
            "setWorkflowContext"));

        Assert.Equal(eventsBefore, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_events WHERE trace_id = $1", traceId));
        Assert.Equal(1L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_steps WHERE trace_id = $1", traceId));

        var ended = await Run(Complete, new { traceId = Ids.Trace(traceId), status = "CANCELLED", error = "stopped" },
            "completeWorkflowExecution");
        Assert.Equal("CANCELLED", ended.GetProperty("trace").GetProperty("status").GetString());
        Assert.Equal("InvalidStateError",
            await ErrorOf(StartStep, new { traceId = Ids.Trace(traceId), nodeId = Ids.Node(workflow.Nodes[1]), n = 2 },
                "startWorkflowStep"));
        Assert.Equal("InvalidStateError", await ErrorOf(SetContext, new { traceId = Ids.Trace(traceId), key = "k", value = 1 },
            "setWorkflowContext"));
    }

    [Fact]
    public async Task Node_io_requirements_name_each_offending_field_and_nothing_is_written()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        await conn.ExecAsync("""
            INSERT INTO node_io_requirements
              (org_id, node_id, direction, field_name, field_type, is_required, default_value, validation_rules) VALUES
              ($1, $2, 'input', 'member_id', 'string', true, NULL, '{"pattern": "^[A-Z0-9]{6,12}$"}'),
              ($1, $2, 'input', 'retries', 'integer', false, '2', '{"maximum": 5}'),
              ($1, $2, 'input', 'dob', 'string', true, NULL, '{"format": "date"}'),
              ($1, $2, 'output', 'status', 'string', true, NULL, '{"enum": ["active", "inactive"]}')
            """, workflow.OrgId, workflow.Nodes[0]);
        var traceId = await StartRunAsync(workflow);

        var refused = await OperatorAsync(workflow, StartStep,
            new
            {
                traceId = Ids.Trace(traceId),
                nodeId = Ids.Node(workflow.Nodes[0]),
                n = 1,
                input = new
                {
                    member_id = "x",
                    retries = 9
                }
            }, "startWorkflowStep");
        Assert.Equal("ValidationError", ErrorType(refused));
        var fields = refused.GetProperty("errors")[0].GetProperty("fields").EnumerateArray()
            .Select(f => f.GetProperty("field").GetString()).Order();
        Assert.Equal(["dob", "member_id", "retries"], fields);
        Assert.Equal(0L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_steps WHERE trace_id = $1", traceId));
        Assert.Equal(0L,
            await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_events WHERE trace_id = $1 AND step_id IS NOT NULL", traceId));

        var started = await OperatorAsync(workflow, StartStep,
            new
            {
                traceId = Ids.Trace(traceId),
                nodeId = Ids.Node(workflow.Nodes[0]),
                n = 1,
                input = new
                {
                    member_id = "ABC123",
                    dob = "1980-02-29"
                }
            },
            "startWorkflowStep");
        Assert.Equal(2, started.GetProperty("step").GetProperty("inputData").GetProperty("retries").GetInt32());
        var stepId = started.GetProperty("step").GetProperty("rowId").GetInt64();

        var badOutput = await OperatorAsync(workflow, CompleteStep,
            new { stepId = Ids.Step(stepId), status = "COMPLETED", output = new { status = "weird" } }, "completeWorkflowStep");
        Assert.Equal("status", ErrorField(badOutput));
        Assert.Equal("running", await conn.ScalarAsync<string>("SELECT status FROM workflow_steps WHERE id = $1", stepId));
        // a failed step's output is not checked
        var failed = await OperatorAsync(workflow, CompleteStep, new { stepId = Ids.Step(stepId), status = "FAILED", error = "boom" },
            "completeWorkflowStep");
        Assert.Equal("FAILED", failed.GetProperty("step").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Roles_limit_who_may_write_and_refusals_run_no_sql()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        var viewer = await api.PostAsync(Start, new { workflowId = Ids.Workflow(workflow.Id), channel = "WEB" }, workflow.OrgId,
            role: TenantRole.Viewer);
        Assert.Contains("FORBIDDEN", viewer.ErrorCodes);
        Assert.Empty(viewer.Statements);
        var operatorCleanup = await api.PostAsync("mutation { cleanupOldExecutionData(input: { retentionDays: 30 }) { tracesDeleted } }",
            org: workflow.OrgId, role: TenantRole.Operator);
        Assert.Contains("FORBIDDEN", operatorCleanup.ErrorCodes);
        Assert.Empty(operatorCleanup.Statements);
        var operatorConfig = await api.PostAsync(
            "mutation { upsertChannelConfig(input: { channel: WEB, config: {} }) { channelConfig { id } } }",
            org: workflow.OrgId, role: TenantRole.Operator);
        Assert.Contains("FORBIDDEN", operatorConfig.ErrorCodes);
        // admins may also run executions
        await StartRunAsync(workflow, role: TenantRole.Admin);
    }

    [Fact]
    public async Task Another_organisations_ids_are_not_found_and_stay_unchanged()
    {
        var workflowA = await FreshWorkflow.CreateAsync(api, GraphApiFixture.OrgA);
        var traceId = await StartRunAsync(workflowA);
        var stepId = await StartStepAsync(workflowA, traceId, 1);
        var b = GraphApiFixture.OrgB;

        async Task<string?> AsB(string query, object variables, string field) =>
            ErrorType(Payload(await api.PostAsync(query, variables, b, role: TenantRole.Admin), field));

        Assert.Equal("NotFoundError", await AsB(Start, new { workflowId = Ids.Workflow(workflowA.Id), channel = "WEB" },
            "startWorkflowExecution"));
        Assert.Equal("NotFoundError", await AsB(Complete, new { traceId = Ids.Trace(traceId), status = "FAILED" },
            "completeWorkflowExecution"));
        Assert.Equal("NotFoundError", await AsB(StartStep, new
        {
            traceId = Ids.Trace(traceId),
            nodeId = Ids.Node(workflowA.Nodes[1]),
            n = 2
        }, "startWorkflowStep"));
        Assert.Equal("NotFoundError", await AsB(CompleteStep, new { stepId = Ids.Step(stepId), status = "COMPLETED" },
            "completeWorkflowStep"));
        Assert.Equal("NotFoundError", await AsB(Retry, new { stepId = Ids.Step(stepId) }, "retryWorkflowStep"));
        Assert.Equal("NotFoundError", await AsB(SetContext, new { traceId = Ids.Trace(traceId), key = "k", value = "stolen" },
            "setWorkflowContext"));

        await using var conn = await FreshWorkflow.OwnerAsync(api);
        Assert.Equal("active", await conn.ScalarAsync<string>("SELECT status FROM workflow_trace WHERE id = $1", traceId));
        Assert.Equal("running", await conn.ScalarAsync<string>("SELECT status FROM workflow_steps WHERE id = $1", stepId));
        Assert.Equal(0L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_trace_context WHERE trace_id = $1", traceId));
    }

    [Fact]
    public async Task Bad_input_gets_a_clear_error()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        var traceId = await StartRunAsync(workflow);
        var big = new string('x', 70 * 1024);
        var oversized = await OperatorAsync(workflow, SetContext, new { traceId = Ids.Trace(traceId), key = "blob", value = new { big } },
            "setWorkflowContext");
        Assert.Equal("ValidationError", ErrorType(oversized));
        Assert.Equal("value", ErrorField(oversized));

        var badEnum = await api.PostAsync(
            $"mutation {{ completeWorkflowExecution(input: {{ traceId: \"{Ids.Trace(traceId)}\", status: DONE }}) {{ trace {{ id }} }} }}",
            org: workflow.OrgId, role: TenantRole.Operator);
        Assert.Equal(HttpStatusCode.BadRequest, badEnum.Status);
        var missing = await api.PostAsync("mutation { startWorkflowExecution(input: { channel: WEB }) { trace { id rowId } } }",
            org: workflow.OrgId, role: TenantRole.Operator);
        Assert.Equal(HttpStatusCode.BadRequest, missing.Status);
        var malformed = await api.PostAsync(Start, new { workflowId = "not-a-uuid", channel = "WEB" }, workflow.OrgId,
            role: TenantRole.Operator);
        Assert.Equal(["INVALID_ID"], malformed.ErrorCodes);
        Assert.Empty(malformed.Statements);
        // an id of another type where a workflow's is expected: the same error, nothing run
        var wrongType = await api.PostAsync(Start, new { workflowId = Ids.Node(workflow.Nodes[0]), channel = "WEB" }, workflow.OrgId,
            role: TenantRole.Operator);
        Assert.Equal(["INVALID_ID"], wrongType.ErrorCodes);
        Assert.Empty(wrongType.Statements);
    }

    [Fact]
    public async Task Two_workers_completing_one_step_at_once_leave_one_winner()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        var traceId = await StartRunAsync(workflow);
        var stepId = await StartStepAsync(workflow, traceId, 1);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 2).Select(worker =>
            api.PostAsync(CompleteStep, new { stepId = Ids.Step(stepId), status = "COMPLETED", output = new { worker } }, workflow.OrgId,
                role: TenantRole.Operator)));

        var errors = outcomes.Select(o => ErrorType(Payload(o, "completeWorkflowStep"))).ToList();
        Assert.Single(errors, e => e is null);
        Assert.Single(errors, e => e == "InvalidStateError");
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        Assert.Equal(1L, await conn.ScalarAsync<long>(
            "SELECT count(*) FROM workflow_events WHERE step_id = $1 AND event_type = 'step_completed'", stepId));
    }

    [Fact]
    public async Task A_hundred_parallel_runs_leave_consistent_counts_in_every_view()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        using var gate = new SemaphoreSlim(16);
        await Task.WhenAll(Enumerable.Range(0, 100).Select(async run =>
        {
            await gate.WaitAsync();
            try
            {
                var traceId = await StartRunAsync(workflow, $"PAR-{run}");
                for (var n = 1; n <= 2; n++)
                {
                    var stepId = await StartStepAsync(workflow, traceId, n);
                    await OperatorAsync(workflow, CompleteStep,
                        new { stepId = Ids.Step(stepId), status = n == 2 && run % 10 == 0 ? "FAILED" : "COMPLETED" },
                            "completeWorkflowStep");
                }
                await OperatorAsync(workflow, Complete,
                    new { traceId = Ids.Trace(traceId), status = run % 10 == 0 ? "FAILED" : "COMPLETED" }, "completeWorkflowExecution");
            }
            finally
            {
                gate.Release();
            }
        }));

        var views = await api.PostAsync($$"""
            {
              traces(where: { workflowId: { eq: "{{Ids.Workflow(workflow.Id)}}" } }) { totalCount }
              executionSummaries(where: { workflowId: { eq: "{{Ids.Workflow(workflow.Id)}}" }, totalSteps: { eq: 2 } }) { totalCount }
              channelPerformance(where: { workflowId: { eq: "{{Ids.Workflow(workflow.Id)}}" } }) {
                nodes { totalExecutions completedExecutions failedExecutions successRate }
              }
              nodeExecutionStats(where: { workflowId: { eq: "{{Ids.Workflow(workflow.Id)}}" } }, order: [{ nodeName: ASC }]) {
                nodes { totalExecutions completedExecutions failedExecutions }
              }
              failedSteps(where: { workflowId: { eq: "{{Ids.Workflow(workflow.Id)}}" } }) { totalCount }
              executionTimeline(where: { workflowId: { eq: "{{Ids.Workflow(workflow.Id)}}" } }) { totalCount }
            }
            """, org: workflow.OrgId, role: TenantRole.Viewer);
        var data = views.Data;
        Assert.Equal(100, data.GetProperty("traces").GetProperty("totalCount").GetInt32());
        Assert.Equal(100, data.GetProperty("executionSummaries").GetProperty("totalCount").GetInt32());
        var performance = data.GetProperty("channelPerformance").GetProperty("nodes")[0];
        Assert.Equal(100, performance.GetProperty("totalExecutions").GetInt64());
        Assert.Equal(90, performance.GetProperty("completedExecutions").GetInt64());
        Assert.Equal(10, performance.GetProperty("failedExecutions").GetInt64());
        Assert.Equal(90.0, performance.GetProperty("successRate").GetDouble());
        var nodes = data.GetProperty("nodeExecutionStats").GetProperty("nodes");
        Assert.Equal(100, nodes[0].GetProperty("completedExecutions").GetInt64());
        Assert.Equal(90, nodes[1].GetProperty("completedExecutions").GetInt64());
        Assert.Equal(10, nodes[1].GetProperty("failedExecutions").GetInt64());
        Assert.Equal(10, data.GetProperty("failedSteps").GetProperty("totalCount").GetInt32());
        // per run: started, 2 x (step started, step ended), ended
        Assert.Equal(600, data.GetProperty("executionTimeline").GetProperty("totalCount").GetInt32());
    }
}
