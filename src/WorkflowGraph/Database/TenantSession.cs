using Npgsql;

namespace WorkflowGraph.Database;

/// <summary>
/// One request's database work: a connection in a transaction that runs as <c>workflowgraph_app</c> with the
/// tenant set transaction-locally, so row level security applies whatever the login is (even an owner or
/// superuser). Disposing without <see cref="CommitAsync"/> rolls back.
/// </summary>
public sealed class TenantSession : IAsyncDisposable
{
    public const string AppRole = "workflowgraph_app";

    /// <summary>
    /// The two commands that make a transaction the tenant's: the service role, then one SELECT setting the org,
    /// the user and any further transaction-local <paramref name="settings"/> (its one row set is the caller's to skip).
    /// </summary>
    public static NpgsqlBatchCommand[] TenantCommands(Guid? orgId, Guid? userId, params (string Name, string Value)[] settings)
    {
        var select = new NpgsqlBatchCommand(
            "SELECT set_config('app.current_org_id', $1, true), set_config('app.current_user_id', $2, true)" +
            string.Concat(settings.Select((_, i) => $", set_config(${3 + 2 * i}, ${4 + 2 * i}, true)")))
        {
            Parameters = { new() { Value = orgId?.ToString() ?? "" }, new() { Value = userId?.ToString() ?? "" } },
        };
        foreach (var (name, value) in settings)
        {
            select.Parameters.Add(new NpgsqlParameter { Value = name });
            select.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        return [new NpgsqlBatchCommand($"SET LOCAL ROLE {AppRole}"), select];
    }

    private TenantSession(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        Connection = connection;
        Transaction = transaction;
    }

    public NpgsqlConnection Connection { get; }
    public NpgsqlTransaction Transaction { get; }

    /// <summary>Opens a transaction as the tenant; costs one round trip (Npgsql sends BEGIN with the batch).</summary>
    public static async Task<TenantSession> BeginAsync(
        NpgsqlDataSource dataSource, Guid? orgId, Guid? userId, CancellationToken cancellationToken = default)
    {
        var session = await BeginAsOwnerAsync(dataSource, cancellationToken);
        try
        {
            await session.BecomeTenantAsync(orgId, userId, cancellationToken);
            return session;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    /// <summary>A transaction as the login itself, for migrations-like work and test setup; no RLS for owners.</summary>
    public static async Task<TenantSession> BeginAsOwnerAsync(
        NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            return new TenantSession(connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Switches this transaction to the service role and tenant; null ids mean "none" (no rows).</summary>
    public async Task BecomeTenantAsync(Guid? orgId, Guid? userId, CancellationToken cancellationToken = default)
    {
        await using var batch = new NpgsqlBatch(Connection, Transaction);
        foreach (var command in TenantCommands(orgId, userId))
            batch.BatchCommands.Add(command);
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Back to the login's own role within the transaction (graphile/starter's becomeUser in reverse).</summary>
    public async Task BecomeOwnerAsync(CancellationToken cancellationToken = default)
    {
        await using var command = CreateCommand(
            "RESET ROLE; SELECT set_config('app.current_org_id', '', true), set_config('app.current_user_id', '', true)");
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public NpgsqlCommand CreateCommand(string sql) => new(sql, Connection, Transaction);

    public NpgsqlBatch CreateBatch() => new(Connection, Transaction);

    public Task CommitAsync(CancellationToken cancellationToken = default) => Transaction.CommitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await Transaction.DisposeAsync();
        await Connection.DisposeAsync();
    }
}
