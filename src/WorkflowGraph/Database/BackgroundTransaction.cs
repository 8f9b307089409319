using Npgsql;

namespace WorkflowGraph.Database;

/// <summary>
/// The transactions of the service's background workers (bulk operations, exports): opened on the primary as a tenant
/// (row level security applies; no organisation means no rows), in UTC, with a statement timeout of their own.
/// </summary>
public sealed class BackgroundTransaction : IAsyncDisposable
{
    private BackgroundTransaction(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        Connection = connection;
        Transaction = transaction;
    }

    public NpgsqlConnection Connection { get; }
    public NpgsqlTransaction Transaction { get; }

    /// <summary>A transaction as <paramref name="orgId"/> and <paramref name="userId"/>, with further settings.</summary>
    public static async Task<BackgroundTransaction> BeginAsync(NpgsqlDataSource dataSource, Guid? orgId, Guid? userId,
        TimeSpan statementTimeout, CancellationToken cancellationToken, params (string Name, string Value)[] settings)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using var batch = new NpgsqlBatch(connection, transaction);
            foreach (var command in TenantTransaction.Commands(orgId, userId,
                         [("statement_timeout", $"{(int)statementTimeout.TotalMilliseconds}ms"), ("TimeZone", "UTC"), .. settings]))
                batch.BatchCommands.Add(command);
            await batch.ExecuteNonQueryAsync(cancellationToken);
            return new BackgroundTransaction(connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>A command of this transaction.</summary>
    public NpgsqlCommand Command(string sql, params object?[] values)
    {
        var command = new NpgsqlCommand(sql, Connection, Transaction);
        foreach (var value in values)
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        return command;
    }

    /// <summary>One statement in a transaction of its own, committed: what <paramref name="read"/> makes of its rows.</summary>
    public static async Task<T> RunAsync<T>(NpgsqlDataSource dataSource, Guid? orgId, Guid? userId, string sql,
        IReadOnlyList<object?> values, Func<NpgsqlDataReader, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        await using var transaction = await BeginAsync(dataSource, orgId, userId, TimeSpan.FromSeconds(60), cancellationToken);
        T result;
        await using (var command = transaction.Command(sql, [.. values]))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            result = await read(reader, cancellationToken);
        await transaction.Transaction.CommitAsync(cancellationToken);
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        await Transaction.DisposeAsync();
        await Connection.DisposeAsync();
    }
}
