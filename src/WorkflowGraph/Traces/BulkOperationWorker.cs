using Npgsql;
using WorkflowGraph.Database;
using WorkflowGraph.Telemetry;

namespace WorkflowGraph.Traces;

/// <summary>What one committed batch of a bulk operation left: the operation's status and progress.</summary>
public sealed record BulkBatchResult(long OperationId, string Status, int Done, int Failed, int Total, int BatchDone, int BatchFailed);

/// <summary>Told after each committed batch (the instance's own), before the next one starts.</summary>
public interface IBulkBatchObserver
{
    Task AfterBatchAsync(BulkBatchResult result, CancellationToken cancellationToken);
}

/// <summary>
/// Works the bulk operations (db/migrations/028) in the background: every <c>Execution:BulkPollSeconds</c> it claims
/// the oldest open operation no instance holds (a lease of <c>Execution:BulkLeaseSeconds</c>, renewed by each batch),
/// then runs it batch after batch (<c>Execution:BulkBatchSize</c> runs, one transaction each, as the tenant and user
/// who requested it) until it is completed. An instance that stops gives its lease back between batches; one that dies
/// loses it when it expires; either way another instance resumes where the last committed batch ended.
/// </summary>
public sealed class BulkOperationWorker(NpgsqlDataSource dataSource, IConfiguration configuration,
    IEnumerable<IBulkBatchObserver> observers, ILogger<BulkOperationWorker> logger) : BackgroundService
{
    /// <summary>A failed batch is retried with each run in a subtransaction of its own; fewer than 64 keep them cheap.</summary>
    private const int IsolatedBatchSize = 50;

    private readonly string _name = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    private sealed record Claimed(long Id, Guid OrgId, Guid? RequestedBy, string Kind);

    private static KeyValuePair<string, object?> Tag(string name, string value) => new(name, value);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = configuration.GetValue("Execution:BulkPollSeconds", 1.0);
        if (poll <= 0)
            return;
        var batchSize = Math.Clamp(configuration.GetValue("Execution:BulkBatchSize", 500), 1, 10_000);
        var lease = Math.Max(configuration.GetValue("Execution:BulkLeaseSeconds", 60), 1);
        // the first claim waits one interval, by when startup has applied the migrations
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(poll));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                // one operation after another until none is left, then wait for the next tick
                while (await ClaimAsync(lease, stoppingToken) is { } operation)
                    await WorkAsync(operation, batchSize, lease, stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                // nothing is half done (each batch is one transaction); the lease expires and the operation is taken again
                logger.LogWarning(e, "The bulk operation worker could not go on");
            }
        }
    }

    private async Task WorkAsync(Claimed operation, int batchSize, int lease, CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                BulkBatchResult result;
                try
                {
                    result = await BatchAsync(operation, batchSize, lease, isolate: false, stoppingToken);
                }
                catch (PostgresException e) when (e.SqlState is "WF001" or "WF002")
                {
                    logger.LogWarning("Bulk operation {Operation} is no longer this instance's: {Reason}", operation.Id, e.MessageText);
                    return;
                }
                catch (PostgresException e) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(e, "A batch of bulk operation {Operation} failed; retrying it run by run", operation.Id);
                    result = await BatchAsync(operation, Math.Min(batchSize, IsolatedBatchSize), lease, isolate: true, stoppingToken);
                }
                ServiceTelemetry.BulkRuns.Add(result.BatchDone, Tag("kind", operation.Kind), Tag("outcome", "done"));
                ServiceTelemetry.BulkRuns.Add(result.BatchFailed, Tag("kind", operation.Kind), Tag("outcome", "failed"));
                foreach (var observer in observers)
                    await observer.AfterBatchAsync(result, stoppingToken);
                if (result.Status == "completed")
                {
                    logger.LogInformation("Bulk operation {Operation} completed: {Done} done, {Failed} failed of {Total}",
                        operation.Id, result.Done, result.Failed, result.Total);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping between (or in) batches: a batch in flight was rolled back; let another instance resume at once
            await ReleaseAsync(operation);
            throw;
        }
    }

    private async Task<Claimed?> ClaimAsync(int lease, CancellationToken cancellationToken)
    {
        return await InTransactionAsync(null, null, "SELECT operation_id, org_id, requested_by, kind FROM claim_bulk_operation($1, $2)",
            [new() { Value = _name }, new() { Value = lease }],
            async (reader, ct) => await reader.ReadAsync(ct)
                ? new Claimed(reader.GetInt64(0), reader.GetGuid(1), reader.IsDBNull(2) ? null : reader.GetGuid(2), reader.GetString(3))
                : null,
            cancellationToken);
    }

    private Task<BulkBatchResult> BatchAsync(Claimed operation, int batchSize, int lease, bool isolate,
        CancellationToken cancellationToken) =>
        InTransactionAsync(operation.OrgId, operation.RequestedBy,
            "SELECT status, done, failed, total, batch_done, batch_failed FROM run_bulk_operation_batch($1, $2, $3, $4, $5)",
            [new() { Value = operation.Id }, new() { Value = _name }, new() { Value = batchSize }, new() { Value = lease },
             new() { Value = isolate }],
            async (reader, ct) =>
            {
                await reader.ReadAsync(ct);
                return new BulkBatchResult(operation.Id, reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3),
                    reader.GetInt32(4), reader.GetInt32(5));
            },
            cancellationToken);

    private async Task ReleaseAsync(Claimed operation)
    {
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await InTransactionAsync<object?>(operation.OrgId, operation.RequestedBy, "SELECT release_bulk_operation($1, $2)",
                [new() { Value = operation.Id }, new() { Value = _name }], (_, _) => Task.FromResult<object?>(null), deadline.Token);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            logger.LogWarning(e, "Bulk operation {Operation}: its lease could not be given back; it expires instead", operation.Id);
        }
    }

    /// <summary>One statement in a transaction of its own, as the tenant (RLS) or, with no organisation, as nobody.</summary>
    private Task<T> InTransactionAsync<T>(Guid? orgId, Guid? userId, string sql, List<NpgsqlParameter> parameters,
        Func<NpgsqlDataReader, CancellationToken, Task<T>> read, CancellationToken cancellationToken) =>
        BackgroundTransaction.RunAsync(dataSource, orgId, userId, sql, [.. parameters.Select(p => p.Value)], read, cancellationToken);
}
