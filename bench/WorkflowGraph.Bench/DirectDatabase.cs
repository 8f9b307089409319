using Npgsql;

namespace WorkflowGraph.Bench;

/// <summary>
/// The direct baseline's connections: the owner's login, and every transaction sets the role and tenant like the
/// service; like the service's pool, a connection goes back without a session reset (all its state is
/// transaction-local). The bench's clients use it in process, and so does the hand-written HTTP endpoint
/// (<see cref="DirectHttpServer"/>) in its own.
/// </summary>
public sealed class DirectDatabase(string ownerConnection, int poolSize) : IAsyncDisposable
{
    public NpgsqlDataSource DataSource { get; } = new NpgsqlDataSourceBuilder(ownerConnection)
    {
        ConnectionStringBuilder = { MaxPoolSize = poolSize, NoResetOnClose = true },
    }.Build();

    /// <summary>
    /// A page read by hand (<see cref="Scenarios.DirectPages"/>) as the bench's viewer: BEGIN, the tenant setup and the
    /// page's statements in one round trip, then <paramref name="read"/> over their results (the reader is past the
    /// tenant setup), then the end of the transaction. Returns what <paramref name="read"/> returns.
    /// </summary>
    public async Task<int> ReadPageAsync(IEnumerable<NpgsqlBatchCommand> statements,
        Func<NpgsqlDataReader, CancellationToken, Task<int>> read, CancellationToken ct)
    {
        await using var conn = await DataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using var batch = BenchContext.TenantBatch(conn, tx, BenchContext.Viewer);
        foreach (var statement in statements)
            batch.BatchCommands.Add(statement);
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.NextResultAsync(ct);
        return await read(reader, ct);
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
