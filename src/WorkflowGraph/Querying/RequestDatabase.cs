using Npgsql;

namespace WorkflowGraph.Querying;

/// <summary>Who the current request acts for; the database confines it to <see cref="OrgId"/> through RLS.</summary>
public sealed record RequestTenant(Guid? OrgId, Guid? UserId);

/// <summary>Sees every statement the engine sends (tests and the benchmark record them; production registers nothing).</summary>
public interface IStatementObserver
{
    void OnStatement(string sql, IReadOnlyList<NpgsqlParameter> parameters);
}

/// <summary>
/// The database side of one GraphQL request: one connection, one transaction as <c>workflowgraph_app</c> with the
/// tenant set transaction-locally, begun in the same round trip as the first statement. Root fields resolve in
/// parallel, so statements take turns on the connection.
/// </summary>
public sealed class RequestDatabase(NpgsqlDataSource dataSource, RequestTenant tenant, QueryLimits limits,
    IEnumerable<IStatementObserver> observers) : IAsyncDisposable
{
    private readonly SemaphoreSlim _turn = new(1, 1);
    private NpgsqlConnection? _connection;
    private NpgsqlTransaction? _transaction;

    public RequestTenant Tenant => tenant;

    /// <summary>Runs one statement and reads its rows. With <paramref name="isolate"/>, a failure (e.g. an error raised by
    /// a SQL function) leaves the request's transaction usable for the other root fields.</summary>
    public async Task<T> QueryAsync<T>(string sql, IReadOnlyList<NpgsqlParameter> parameters,
        Func<NpgsqlDataReader, CancellationToken, Task<T>> read, CancellationToken cancellationToken, bool isolate = false)
    {
        await _turn.WaitAsync(cancellationToken);
        try
        {
            await using var batch = await BeginBatchAsync(cancellationToken);
            // the first batch starts with the tenant setup, whose SELECT returns one row set to skip
            var setupResults = batch.BatchCommands.Count > 0 ? 1 : 0;
            if (isolate)
                batch.BatchCommands.Add(new NpgsqlBatchCommand("SAVEPOINT field"));
            var command = new NpgsqlBatchCommand(sql);
            foreach (var parameter in parameters)
                command.Parameters.Add(parameter);
            batch.BatchCommands.Add(command);
            foreach (var observer in observers)
                observer.OnStatement(sql, parameters);
            try
            {
                await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
                for (var i = 0; i < setupResults; i++)
                    await reader.NextResultAsync(cancellationToken);
                return await read(reader, cancellationToken);
            }
            catch (PostgresException) when (isolate)
            {
                await using var rollback = new NpgsqlCommand("ROLLBACK TO SAVEPOINT field", _connection, _transaction);
                await rollback.ExecuteNonQueryAsync(CancellationToken.None);
                throw;
            }
        }
        finally
        {
            _turn.Release();
        }
    }

    private async Task<NpgsqlBatch> BeginBatchAsync(CancellationToken cancellationToken)
    {
        if (_connection is not null)
            return new NpgsqlBatch(_connection, _transaction);
        _connection = await dataSource.OpenConnectionAsync(cancellationToken);
        _transaction = await _connection.BeginTransactionAsync(cancellationToken);
        return new NpgsqlBatch(_connection, _transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand($"SET LOCAL ROLE {Database.TenantSession.AppRole}"),
                new NpgsqlBatchCommand(
                    "SELECT set_config('app.current_org_id', $1, true), set_config('app.current_user_id', $2, true), " +
                    "set_config('statement_timeout', $3, true)")
                {
                    Parameters =
                    {
                        new() { Value = tenant.OrgId?.ToString() ?? "" },
                        new() { Value = tenant.UserId?.ToString() ?? "" },
                        new() { Value = $"{limits.ExecutionTimeoutSeconds}s" },
                    },
                },
            },
        };
    }

    /// <summary>Commits what the request wrote; a request that only read may simply be disposed.</summary>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (_transaction is not null)
            await _transaction.CommitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_transaction is not null)
            await _transaction.DisposeAsync();
        if (_connection is not null)
            await _connection.DisposeAsync();
        _turn.Dispose();
    }
}
