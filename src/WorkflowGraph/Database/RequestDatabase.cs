using System.Diagnostics;
using Npgsql;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Database;

/// <summary>
/// The database side of one GraphQL request: one connection, one transaction as <c>workflowgraph_app</c> with the
/// tenant set transaction-locally, begun in the same round trip as the first statement. Root fields resolve in
/// parallel, so statements take turns on the connection. A query (<see cref="ReadsOnly"/>), which never commits, runs
/// each round trip as a transaction of its own that also ends in it — BEGIN, the tenant setup, the statements,
/// ROLLBACK — so a one-field query costs one round trip, not two (READ COMMITTED gives each statement its own snapshot
/// either way).
/// </summary>
public sealed class RequestDatabase(NpgsqlDataSource dataSource, RequestTenant tenant, TimeSpan statementTimeout,
    IEnumerable<IStatementObserver> observers, ReadReplica? replica = null, bool primaryRequested = false,
    PhiAccessBatcher? phiAccessBatcher = null) : IAsyncDisposable
{
    /// <summary>The request header that keeps a query on the primary (to read what the caller just wrote).</summary>
    public const string ReadFromHeader = "WorkflowGraph-Read-From";

    private readonly SemaphoreSlim _turn = new(1, 1);
    private NpgsqlConnection? _connection;
    private NpgsqlTransaction? _transaction;
    private bool _savepointOpen;

    public RequestTenant Tenant => tenant;

    /// <summary>What this request's response showed unmasked, for its PHI access record.</summary>
    public PhiAccessRecord PhiAccess { get; } = new();

    /// <summary>
    /// Set before the first statement when the operation only reads (a query): it then runs on the read replica, if one
    /// is configured and close enough behind, unless the request asked for the primary (<see cref="ReadFromHeader"/>).
    /// </summary>
    public bool ReadsOnly { get; set; }

    /// <summary>Whether this request's transaction is on the read replica (known once the first statement ran).</summary>
    public bool OnReplica { get; private set; }

    /// <summary>Runs one statement and reads its rows. With <paramref name="isolate"/>, a failure (e.g. an error raised by
    /// a SQL function) leaves the request's transaction usable for the other root fields.</summary>
    public Task<T> QueryAsync<T>(string sql, IReadOnlyList<NpgsqlParameter> parameters,
        Func<NpgsqlDataReader, CancellationToken, Task<T>> read, CancellationToken cancellationToken, bool isolate = false) =>
        QueryAsync([new Statement(sql, parameters)], read, cancellationToken, isolate);

    /// <summary>
    /// Runs statements in one round trip (each sees what the previous ones wrote) and reads their rows; the reader
    /// starts at the first statement's rows. With <paramref name="isolate"/> they succeed or fail together inside
    /// a savepoint: any failure — in PostgreSQL or while reading the rows — rolls back to it, so nothing is half
    /// written and the transaction stays usable. The savepoint of a success is released with the next round trip
    /// (or by the commit), never before its rows were read.
    /// </summary>
    public async Task<T> QueryAsync<T>(IReadOnlyList<Statement> statements,
        Func<NpgsqlDataReader, CancellationToken, Task<T>> read, CancellationToken cancellationToken, bool isolate = false)
    {
        await _turn.WaitAsync(cancellationToken);
        try
        {
            if (ReadsOnly)
                return await ReadAsync(statements, read, cancellationToken);
            await using var batch = await BeginBatchAsync(cancellationToken);
            // the first batch starts with the tenant setup, whose SELECT returns one row set to skip
            var setupResults = batch.BatchCommands.Count > 0 ? 1 : 0;
            if (_savepointOpen)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand("RELEASE SAVEPOINT field"));
                _savepointOpen = false;
            }
            if (isolate)
                batch.BatchCommands.Add(new NpgsqlBatchCommand("SAVEPOINT field"));
            AddStatements(batch, statements);
            try
            {
                T result;
                await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
                {
                    for (var i = 0; i < setupResults; i++)
                        await reader.NextResultAsync(cancellationToken);
                    result = await read(reader, cancellationToken);
                }
                _savepointOpen = isolate;
                return result;
            }
            catch (Exception) when (isolate)
            {
                await RollBackToSavepointAsync();
                throw;
            }
        }
        finally
        {
            _turn.Release();
        }
    }

    /// <summary>
    /// A query's round trip, a transaction from BEGIN to ROLLBACK: nothing of it outlives the batch (role, tenant
    /// settings), and a failure ends only it. When a statement fails PostgreSQL skips the rest, ROLLBACK included, so the
    /// failed transaction is rolled back before the error is reported.
    /// </summary>
    private async Task<T> ReadAsync<T>(IReadOnlyList<Statement> statements, Func<NpgsqlDataReader, CancellationToken, Task<T>> read,
        CancellationToken cancellationToken)
    {
        if (_connection is null)
        {
            var source = !primaryRequested && replica?.ForReads is { } standby ? standby : dataSource;
            OnReplica = source != dataSource;
            _connection = await source.OpenConnectionAsync(cancellationToken);
        }
        await using var batch = new NpgsqlBatch(_connection);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN ISOLATION LEVEL READ COMMITTED"));
        foreach (var command in TenantTransaction.Commands(tenant.OrgId, tenant.UserId, [.. Settings()]))
            batch.BatchCommands.Add(command);
        AddStatements(batch, statements);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("ROLLBACK"));
        try
        {
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            // the tenant setup's SELECT returns one row set to skip
            await reader.NextResultAsync(cancellationToken);
            return await read(reader, cancellationToken);
        }
        catch (Exception)
        {
            await EndReadAsync();
            throw;
        }
    }

    /// <summary>After a failed query round trip: its transaction rolled back (a no-op when the batch got to its own
    /// ROLLBACK), or the connection given up when that fails too.</summary>
    private async Task EndReadAsync()
    {
        try
        {
            await using var rollback = new NpgsqlCommand("ROLLBACK", _connection);
            await rollback.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (Exception)
        {
            // a broken connection: the pool does not take it back, and the original error is the one worth reporting
            await _connection!.DisposeAsync();
            _connection = null;
        }
    }

    /// <summary>Adds the statements to the batch, each with its parameters, and tells the observers.</summary>
    private void AddStatements(NpgsqlBatch batch, IReadOnlyList<Statement> statements)
    {
        foreach (var statement in statements)
        {
            var command = new NpgsqlBatchCommand(statement.Sql);
            foreach (var parameter in statement.Parameters)
                command.Parameters.Add(parameter);
            batch.BatchCommands.Add(command);
            foreach (var observer in observers)
                observer.OnStatement(statement.Sql, statement.Parameters);
        }
    }

    private List<(string, string)> Settings()
    {
        // UTC: timestamps in responses read the same whatever the server's TimeZone setting is
        List<(string, string)> settings = [("statement_timeout", $"{(int)statementTimeout.TotalMilliseconds}ms"), ("TimeZone", "UTC")];
        // whether PHI is shown unmasked (db/migrations/036): only a token with the phi:read scope turns it on
        settings.Add(("app.phi_read", tenant.PhiRead ? "on" : "off"));
        // a traced request's context: a run it starts records it (db/migrations/023)
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C, Recorded: true } traced)
            settings.Add(("app.traceparent", traced.Id!));
        return settings;
    }

    private async Task RollBackToSavepointAsync()
    {
        try
        {
            await using var rollback = new NpgsqlCommand("ROLLBACK TO SAVEPOINT field; RELEASE SAVEPOINT field", _connection, _transaction);
            await rollback.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (Exception)
        {
            // the batch failed before its savepoint existed, or the connection broke (Npgsql then reports the
            // transaction completed): the transaction is lost anyway, and the original error is the one worth reporting
        }
    }

    private async Task<NpgsqlBatch> BeginBatchAsync(CancellationToken cancellationToken)
    {
        if (_connection is not null)
            return new NpgsqlBatch(_connection, _transaction);
        // a query reads in ReadAsync (and may go to the replica); everything else stays on the primary
        _connection = await dataSource.OpenConnectionAsync(cancellationToken);
        _transaction = await _connection.BeginTransactionAsync(cancellationToken);
        var batch = new NpgsqlBatch(_connection, _transaction);
        foreach (var command in TenantTransaction.Commands(tenant.OrgId, tenant.UserId, [.. Settings()]))
            batch.BatchCommands.Add(command);
        return batch;
    }

    /// <summary>
    /// Writes the one <c>phi_access_audit</c> record of a response that showed unmasked PHI, always on the primary, and
    /// durably before the response is given (a read that cannot be audited is not answered: the caller withholds the
    /// data when this throws). A mutation that succeeded writes it in its own transaction (the record and the writes
    /// commit together) and gets true: the caller commits. Any other request (a query, on the primary or the read
    /// replica, or a mutation whose writes are not kept) gives its transaction and connection back first, then waits for
    /// its record's group commit on the primary (<see cref="PhiAccessBatcher"/>): an organisation's audited reads are not
    /// serialised one commit each.
    /// </summary>
    public async Task<bool> RecordPhiAccessAsync(string? operationName, string documentHash, bool requestCommits,
        CancellationToken cancellationToken)
    {
        var (fields, runs) = PhiAccess.Snapshot();
        var reader = new PhiAccessReader(tenant, operationName, documentHash, fields);
        if (_transaction is not null && !OnReplica && requestCommits)
        {
            await QueryAsync([PhiAccessWriter.Statement(reader, [runs])], (_, _) => Task.FromResult(0), cancellationToken);
            return true;
        }
        // the record joins the next group commit while this request's transaction and connection are given back
        var recorded = phiAccessBatcher?.WriteAsync(reader, runs, cancellationToken);
        try
        {
            await EndAsync();
        }
        finally
        {
            if (recorded is not null)
                await recorded;
        }
        if (recorded is null)
            await PhiAccessWriter.WriteAsync(dataSource, reader, [runs], observers, cancellationToken);
        return false;
    }

    /// <summary>Rolls the request's transaction back and gives its connection back.</summary>
    private async Task EndAsync()
    {
        if (_transaction is not null)
            await _transaction.DisposeAsync();
        if (_connection is not null)
            await _connection.DisposeAsync();
        (_transaction, _connection) = (null, null);
    }

    /// <summary>Commits what the request wrote; a request that only read may simply be disposed.</summary>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (_transaction is not null)
            await _transaction.CommitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await EndAsync();
        _turn.Dispose();
    }
}
