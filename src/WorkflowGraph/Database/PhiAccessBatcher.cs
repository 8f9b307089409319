using System.Threading.Channels;
using Npgsql;
using WorkflowGraph.Telemetry;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Database;

/// <summary>
/// Group commit of PHI access records. A record is chained to its organisation's last one (db/migrations/037: an
/// advisory lock per organisation until commit), so one transaction per response lets an organisation's audited reads
/// through one commit at a time (measured: about 210 records/s for one organisation at 16 clients on 2 cores). Here the
/// records of the responses waiting at the same moment are written together, one transaction and one statement per
/// organisation, and each response waits for its own record's commit: durable before the response leaves, as before,
/// and a failed batch fails every response in it (none of them is answered). One writer loop per instance; at most
/// <see cref="MaxBatch"/> records per transaction, the rest wait for the next. A batch is one round trip (its
/// transaction begins and commits in it): a response waits for the commit (its WAL flush) of the batch being written
/// when it arrived and of its own, so every round trip less is latency less for every audited response.
/// </summary>
public sealed class PhiAccessBatcher : IAsyncDisposable
{
    public const int MaxBatch = 256;

    private readonly NpgsqlDataSource _primary;
    private readonly IEnumerable<IStatementObserver> _observers;
    private readonly Channel<Pending> _pending = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    public PhiAccessBatcher(NpgsqlDataSource primary, IEnumerable<IStatementObserver> observers)
    {
        (_primary, _observers) = (primary, observers);
        _loop = Task.Run(LoopAsync);
    }

    private sealed record Pending(PhiAccessReader Reader, IReadOnlyCollection<long> Runs, TaskCompletionSource Done);

    /// <summary>Completes once the record is committed; throws when it could not be (the caller shows nothing).</summary>
    public async Task WriteAsync(PhiAccessReader reader, IReadOnlyCollection<long> runs, CancellationToken cancellationToken)
    {
        var pending = new Pending(reader, runs, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_pending.Writer.TryWrite(pending))
            throw new InvalidOperationException("the service is stopping: PHI access cannot be recorded");
        await pending.Done.Task.WaitAsync(cancellationToken);
    }

    private async Task LoopAsync()
    {
        var reader = _pending.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token))
            {
                var batch = new List<Pending>();
                while (batch.Count < MaxBatch && reader.TryRead(out var item))
                    batch.Add(item);
                foreach (var organisation in batch.GroupBy(p => p.Reader.Tenant.OrgId))
                    await WriteGroupAsync(organisation.Key, [.. organisation]);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        while (reader.TryRead(out var left))
            left.Done.TrySetException(new InvalidOperationException("the service is stopping: PHI access was not recorded"));
    }

    /// <summary>One transaction for the records of one organisation (RLS checks each record's organisation against it).</summary>
    private async Task WriteGroupAsync(Guid? orgId, List<Pending> group)
    {
        NpgsqlConnection? connection = null;
        try
        {
            connection = await _primary.OpenConnectionAsync(_stopping.Token);
            await using var batch = new NpgsqlBatch(connection);
            batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
            foreach (var command in TenantTransaction.Commands(orgId, null))
                batch.BatchCommands.Add(command);
            // one statement per reader (user, operation, fields: compared by value, so the responses of one page read by
            // one user share it), its records in arrival order
            foreach (var same in group.GroupBy(p => ReaderKey.Of(p.Reader)))
                PhiAccessWriter.Add(batch, same.First().Reader, [.. same.Select(p => p.Runs)], _observers);
            batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
            await batch.ExecuteNonQueryAsync(_stopping.Token);
            ServiceTelemetry.PhiAuditBatch.Record(group.Count);
            foreach (var pending in group)
                pending.Done.TrySetResult();
        }
        catch (Exception error)
        {
            // a failed command skips the rest of the round trip, COMMIT included: end the failed transaction before the
            // connection goes back to the pool
            await RollBackAsync(connection);
            foreach (var pending in group)
                pending.Done.TrySetException(error);
        }
        finally
        {
            if (connection is not null)
                await connection.DisposeAsync();
        }
    }

    /// <summary>What a record shares with the others of its statement; the fields list compared by its content.</summary>
    private readonly record struct ReaderKey(RequestTenant Tenant, string? OperationName, string DocumentHash, string Fields)
    {
        public static ReaderKey Of(PhiAccessReader reader) =>
            new(reader.Tenant, reader.OperationName, reader.DocumentHash, string.Join('\n', reader.Fields));
    }

    private static async Task RollBackAsync(NpgsqlConnection? connection)
    {
        if (connection is not { State: System.Data.ConnectionState.Open })
            return;
        try
        {
            await using var rollback = new NpgsqlCommand("ROLLBACK", connection);
            await rollback.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (Exception)
        {
            // the connection broke: the server ended the transaction with it
        }
    }

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _stopping.CancelAsync();
        await _loop;
        _stopping.Dispose();
    }
}
