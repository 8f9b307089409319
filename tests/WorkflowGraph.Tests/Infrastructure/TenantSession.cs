using Npgsql;
using WorkflowGraph.Database;

namespace WorkflowGraph.Tests.Infrastructure;

/// <summary>
/// A test's own transaction on a fixture database, as the owner or as a tenant (graphile/starter's becomeUser): the
/// service's <see cref="TenantTransaction.Commands"/> make it the tenant's, so RLS tests exercise what requests run.
/// Disposing without <see cref="CommitAsync"/> rolls back.
/// </summary>
public sealed class TenantSession : IAsyncDisposable
{
    private TenantSession(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        Connection = connection;
        Transaction = transaction;
    }

    public NpgsqlConnection Connection { get; }
    public NpgsqlTransaction Transaction { get; }

    /// <summary>Opens a transaction as the tenant.</summary>
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

    /// <summary>A transaction as the login itself (the owner: no RLS), for setting up rows.</summary>
    public static async Task<TenantSession> BeginAsOwnerAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
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
        foreach (var command in TenantTransaction.Commands(orgId, userId))
            batch.BatchCommands.Add(command);
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Back to the login's own role within the transaction (becomeUser in reverse).</summary>
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
