using System.Globalization;
using System.Text.Json;
using Npgsql;
using WorkflowGraph.Querying.Model;

namespace WorkflowGraph.Bench.Scenarios;

/// <summary>
/// The queue cycle a bot runs: enqueue a run, claim the next one, three steps (start and complete each), complete the
/// run — nine requests, nine transactions, as an operator. One operation = one whole cycle. The baseline calls the same
/// SQL functions directly, each in its own transaction with the service's tenant setup. The runs live in a workflow of
/// their own (made here), so the data set's pending runs never enter the queue.
/// </summary>
public sealed class QueueCycleScenario : IScenario
{
    private const string Enqueue = """
        mutation ($w: ID!) { enqueueWorkflowExecution(input: { workflowId: $w, channel: WEB, context: { member: "M-1" } }) {
            trace { id } errors { __typename } } }
        """;
    private const string Claim = """
        mutation ($w: [ID!]) {
            claimWorkflowExecution(input: { channels: [WEB], workflowIds: $w, workerName: "bench", leaseSeconds: 300 }) {
                trace { id } errors { __typename } } }
        """;
    private const string StartStep = """
        mutation ($t: ID!, $n: ID!, $s: Int!) {
            startWorkflowStep(input: { traceId: $t, nodeId: $n, stepNumber: $s, inputData: { attempt: 1 } }) {
                step { id } errors { __typename } } }
        """;
    private const string CompleteStep = """
        mutation ($id: ID!) {
            completeWorkflowStep(input: { stepId: $id, status: COMPLETED, outputData: { ok: true } }) {
                step { id } errors { __typename } } }
        """;
    private const string Complete = """
        mutation ($t: ID!) {
            completeWorkflowExecution(input: { traceId: $t, status: COMPLETED }) { trace { id status } errors { __typename } } }
        """;

    public string Name => "queue cycle (9 mutations)";

    public ScenarioGoals Goals { get; } = new(MinOfDirect: 0.8);

    public async Task<IReadOnlyList<LoadResult>> RunAsync(BenchContext bench)
    {
        var (workflowId, nodes) = await QueueWorkflow.CreateAsync(bench, "queue cycle");
        var workflow = GlobalId.Encode("Workflow", workflowId.ToString());
        var globalNodes = nodes.Select(n => GlobalId.Encode("WorkflowNode", n.ToString(CultureInfo.InvariantCulture))).ToArray();
        return
        [
            await bench.MeasureAsync(Name, Server.WorkflowGraph, _ => Task.FromResult<Func<CancellationToken, Task>>(async ct =>
            {
                async Task<JsonElement> Post(string query, object variables) =>
                    Payload(await BenchContext.PostForDataAsync(bench.ServiceHttp, bench.OperatorToken, query, variables, ct));
                await Post(Enqueue, new { w = workflow });
                JsonElement trace;
                do
                    trace = (await Post(Claim, new { w = new[] { workflow } })).GetProperty("trace");
                while (trace.ValueKind == JsonValueKind.Null);
                var traceId = trace.GetProperty("id").GetString();
                for (var i = 0; i < 3; i++)
                {
                    var step = await Post(StartStep, new { t = traceId, n = globalNodes[i], s = i + 1 });
                    await Post(CompleteStep, new { id = step.GetProperty("step").GetProperty("id").GetString() });
                }
                await Post(Complete, new { t = traceId });
            })),
            await bench.MeasureAsync(Name, Server.DirectSql, _ => Task.FromResult<Func<CancellationToken, Task>>(async ct =>
            {
                await using var conn = await bench.Database.OpenConnectionAsync(ct);
                await BenchContext.CallFunctionAsync(conn,
                    "SELECT enqueue_workflow_execution($1, 'web', NULL, NULL, '{\"member\": \"M-1\"}')", [workflowId], ct);
                object? traceId;
                do
                    traceId = await BenchContext.CallFunctionAsync(conn, "SELECT claim_workflow_execution('{web}', $1, 'bench', 300)",
                        [new[] { workflowId }], ct);
                while (traceId is null);
                for (var i = 0; i < 3; i++)
                {
                    var stepId = await BenchContext.CallFunctionAsync(conn, "SELECT start_workflow_step($1, $2, $3, '{\"attempt\": 1}')",
                        [traceId, nodes[i], i + 1], ct);
                    await BenchContext.CallFunctionAsync(conn, "SELECT complete_workflow_step($1, 'completed', '{\"ok\": true}', NULL)",
                        [stepId!], ct);
                }
                await BenchContext.CallFunctionAsync(conn, "SELECT complete_workflow_execution($1, 'completed', NULL)", [traceId], ct);
            })),
        ];
    }

    private static JsonElement Payload(JsonElement data)
    {
        var payload = data.EnumerateObject().First().Value;
        if (payload.GetProperty("errors").ValueKind != JsonValueKind.Null)
            throw new InvalidOperationException(payload.GetProperty("errors").ToString());
        return payload;
    }
}

/// <summary>The claim alone, from a queue filled beforehand so that it never runs dry: its latency at N workers.</summary>
public sealed class QueueClaimScenario : IScenario
{
    private const string Claim = """
        mutation ($w: [ID!]) {
            claimWorkflowExecution(input: { channels: [WEB], workflowIds: $w, workerName: "bench", leaseSeconds: 300 }) {
                trace { id } errors { __typename } } }
        """;

    public string Name => "queue claim";

    public ScenarioGoals Goals { get; } = new(MinOfDirect: 0.8);

    public async Task<IReadOnlyList<LoadResult>> RunAsync(BenchContext bench)
    {
        var runs = bench.Options.Quick ? 50_000 : 300_000;
        var results = new List<LoadResult>();
        foreach (var server in new[] { Server.WorkflowGraph, Server.DirectSql })
        {
            var (workflowId, _) = await QueueWorkflow.CreateAsync(bench, $"queue claim {server}");
            await using (var fill = bench.Database.CreateCommand(
                "INSERT INTO workflow_trace (org_id, workflow_id, channel, status, priority) " +
                "SELECT $1, $2, 'web', 'pending', g % 3 FROM generate_series(1, $3) g"))
            {
                fill.Parameters.Add(new NpgsqlParameter { Value = BenchContext.Org });
                fill.Parameters.Add(new NpgsqlParameter { Value = workflowId });
                fill.Parameters.Add(new NpgsqlParameter { Value = runs });
                await fill.ExecuteNonQueryAsync();
            }
            await using (var analyze = bench.Database.CreateCommand("ANALYZE workflow_trace"))
                await analyze.ExecuteNonQueryAsync();
            var workflow = GlobalId.Encode("Workflow", workflowId.ToString());
            results.Add(server == Server.WorkflowGraph
                ? await bench.MeasureAsync(Name, server, _ => Task.FromResult<Func<CancellationToken, Task>>(async ct =>
                {
                    var data = await BenchContext.PostForDataAsync(bench.ServiceHttp, bench.OperatorToken, Claim,
                        new { w = new[] { workflow } }, ct);
                    if (data.GetProperty("claimWorkflowExecution").GetProperty("trace").ValueKind == JsonValueKind.Null)
                        throw new InvalidOperationException("the queue ran dry: fill it with more runs");
                }))
                : await bench.MeasureAsync(Name, server, _ => Task.FromResult<Func<CancellationToken, Task>>(async ct =>
                {
                    await using var conn = await bench.Database.OpenConnectionAsync(ct);
                    if (await BenchContext.CallFunctionAsync(conn, "SELECT claim_workflow_execution('{web}', $1, 'bench', 300)",
                            [new[] { workflowId }], ct) is null)
                        throw new InvalidOperationException("the queue ran dry: fill it with more runs");
                })));
        }
        return results;
    }
}

/// <summary>A workflow of three nodes in the bench organisation for the queue scenarios, and one call as the service makes it.</summary>
internal static class QueueWorkflow
{
    public static async Task<(Guid Workflow, int[] Nodes)> CreateAsync(BenchContext bench, string label)
    {
        await using var conn = await bench.Database.OpenConnectionAsync();
        await using var workflow = new NpgsqlCommand("INSERT INTO workflows (org_id, name) VALUES ($1, $2) RETURNING id", conn)
        {
            Parameters = { new() { Value = BenchContext.Org }, new() { Value = $"bench {label} {Guid.NewGuid():N}" } },
        };
        var workflowId = (Guid)(await workflow.ExecuteScalarAsync())!;
        var nodes = new int[3];
        for (var i = 0; i < nodes.Length; i++)
        {
            await using var node = new NpgsqlCommand(
                "INSERT INTO workflow_nodes (org_id, workflow_id, name, node_type, position) " +
                "VALUES ($1, $2, $3, 'action', $4) RETURNING id", conn)
            {
                Parameters =
                {
                    new() { Value = BenchContext.Org }, new() { Value = workflowId }, new() { Value = $"step {i + 1}" },
                    new() { Value = i + 1 },
                },
            };
            nodes[i] = (int)(await node.ExecuteScalarAsync())!;
        }
        return (workflowId, nodes);
    }

}
