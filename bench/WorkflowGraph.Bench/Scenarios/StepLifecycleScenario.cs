using System.Globalization;
using System.Text.Json;
using Npgsql;
using WorkflowGraph.Querying.Model;

namespace WorkflowGraph.Bench.Scenarios;

/// <summary>
/// Writes: each client, on a run of its own, starts a step and completes it (two requests, two transactions, as an
/// operator). One operation = one step started and completed. The baselines call the same SQL functions:
/// directly, and through PostGraphile's mutations for them.
/// </summary>
public sealed class StepLifecycleScenario : IScenario
{
    private const string StartStep = """
        mutation ($t: ID!, $n: ID!, $s: Int!) {
            startWorkflowStep(input: { traceId: $t, nodeId: $n, stepNumber: $s, inputData: { attempt: 1 } }) {
                step { id } errors { __typename } } }
        """;
    private const string CompleteStep = """
        mutation ($id: ID!) {
            completeWorkflowStep(input: { stepId: $id, status: COMPLETED, outputData: { ok: true } }) {
                step { id status } errors { __typename } } }
        """;

    // PostGraphile exposes the VOLATILE functions as mutations; arguments keep the functions' parameter names.
    private const string PeerStartStep = """
        mutation ($t: BigInt!, $n: Int!, $s: Int!) {
            startWorkflowStep(input: { pTraceId: $t, pNodeId: $n, pStepNumber: $s, pInputData: { attempt: 1 } }) { result } }
        """;
    private const string PeerCompleteStep = """
        mutation ($id: BigInt!) {
            completeWorkflowStep(input: { pStepId: $id, pStatus: "completed", pOutputData: { ok: true } }) { clientMutationId } }
        """;

    public string Name => "step lifecycle (2 mutations)";

    public ScenarioGoals Goals { get; } = new(MinOfDirect: 0.5);

    public async Task<IReadOnlyList<LoadResult>> RunAsync(BenchContext bench)
    {
        var (workflowId, nodeId) = await bench.FirstNodeAsync();
        var globalNodeId = GlobalId.Encode("WorkflowNode", nodeId.ToString(CultureInfo.InvariantCulture));
        async Task<long> NewRunAsync()
        {
            await using var conn = await bench.Database.OpenConnectionAsync();
            await using var tx = await conn.BeginTransactionAsync();
            await using var batch = BenchContext.TenantBatch(conn, tx, BenchContext.Operator);
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT start_workflow_execution($1, 'web')")
            {
                Parameters = { new() { Value = workflowId } },
            });
            long traceId;
            await using (var reader = await batch.ExecuteReaderAsync())
            {
                await reader.NextResultAsync();
                await reader.ReadAsync();
                traceId = reader.GetInt64(0);
            }
            await tx.CommitAsync();
            return traceId;
        }

        // each client gets a run of its own and numbers its steps
        Func<int, Task<Func<CancellationToken, Task>>> OnOwnRun(Func<long, int, CancellationToken, Task> lifecycle) => async _ =>
        {
            var traceId = await NewRunAsync();
            var stepNumber = 0;
            return ct => lifecycle(traceId, ++stepNumber, ct);
        };

        var results = new List<LoadResult>
        {
            await bench.MeasureAsync(Name, Server.WorkflowGraph, OnOwnRun(async (traceId, stepNumber, ct) =>
            {
                var started = Payload(await BenchContext.PostForDataAsync(bench.ServiceHttp, bench.OperatorToken, StartStep,
                    new { t = GlobalId.Encode("WorkflowTrace", traceId.ToString(CultureInfo.InvariantCulture)), n = globalNodeId,
                        s = stepNumber }, ct));
                var stepId = started.GetProperty("step").GetProperty("id").GetString();
                Payload(await BenchContext.PostForDataAsync(bench.ServiceHttp, bench.OperatorToken, CompleteStep, new { id = stepId }, ct));
            })),
            await bench.MeasureAsync(Name, Server.DirectSql, OnOwnRun(async (traceId, stepNumber, ct) =>
            {
                await using var conn = await bench.Database.OpenConnectionAsync(ct);
                var stepId = (long)(await BenchContext.CallFunctionAsync(conn,
                    "SELECT start_workflow_step($1, $2, $3, '{\"attempt\": 1}'::jsonb)", [traceId, nodeId, stepNumber], ct))!;
                await BenchContext.CallFunctionAsync(conn,
                    "SELECT complete_workflow_step($1, 'completed', '{\"ok\": true}'::jsonb, NULL)", [stepId], ct);
            })),
        };
        if (bench.PeerHttp is { } peer)
            results.Add(await bench.MeasureAsync(Name, Server.PostGraphile, OnOwnRun(async (traceId, stepNumber, ct) =>
            {
                var invariant = CultureInfo.InvariantCulture;
                var started = await BenchContext.PostForDataAsync(peer, bench.OperatorToken, PeerStartStep,
                    new { t = traceId.ToString(invariant), n = nodeId, s = stepNumber }, ct);
                var stepId = started.GetProperty("startWorkflowStep").GetProperty("result").GetString()!;
                await BenchContext.PostForDataAsync(peer, bench.OperatorToken, PeerCompleteStep, new { id = stepId }, ct);
            })));
        return results;
    }

    private static JsonElement Payload(JsonElement data)
    {
        var payload = data.EnumerateObject().First().Value;
        if (payload.GetProperty("errors").ValueKind != JsonValueKind.Null)
            throw new InvalidOperationException(payload.GetProperty("errors").ToString());
        return payload;
    }
}
