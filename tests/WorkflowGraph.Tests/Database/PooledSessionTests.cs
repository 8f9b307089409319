using Npgsql;
using WorkflowGraph.Database;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

/// <summary>
/// The service's pools give connections back without Npgsql's session reset (<see cref="DatabaseServices.KeepSessionsOnReturn"/>):
/// what one request leaves on its connection must still not reach the next one. One physical connection, handed back in
/// each state a request can leave it in.
/// </summary>
public sealed class PooledSessionTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private NpgsqlDataSource OnePooledConnection()
    {
        var builder = new NpgsqlConnectionStringBuilder(db.ServiceConnectionString) { MaxPoolSize = 1 };
        DatabaseServices.UsePreparedStatements(db.ServiceConnectionString, builder);
        DatabaseServices.KeepSessionsOnReturn(db.ServiceConnectionString, builder);
        Assert.True(builder.NoResetOnClose);
        return NpgsqlDataSource.Create(builder.ConnectionString);
    }

    private static async Task<string> NextRequestSeesAsync(NpgsqlDataSource pool)
    {
        await using var connection = await pool.OpenConnectionAsync();
        await using var command = new NpgsqlCommand(
            "SELECT current_user || '|' || coalesce(current_setting('app.current_org_id', true), '') || '|' || " +
            "current_setting('statement_timeout') || '|' || pg_backend_pid()", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task A_connection_given_back_keeps_nothing_of_the_request_that_used_it()
    {
        await using var pool = OnePooledConnection();
        var clean = await NextRequestSeesAsync(pool);
        var backend = clean.Split('|')[3];

        // a request's transaction (role, tenant, settings), given back without commit or rollback
        await using (var connection = await pool.OpenConnectionAsync())
        {
            var transaction = await connection.BeginTransactionAsync();
            await using var batch = new NpgsqlBatch(connection, transaction);
            foreach (var command in TenantTransaction.Commands(Guid.NewGuid(), Guid.NewGuid(), ("statement_timeout", "1234ms")))
                batch.BatchCommands.Add(command);
            await batch.ExecuteNonQueryAsync();
        }
        Assert.Equal(clean, await NextRequestSeesAsync(pool));

        // a round trip that began its own transaction and failed inside it (a BEGIN … COMMIT batch whose read failed)
        await using (var connection = await pool.OpenConnectionAsync())
        {
            await using var batch = new NpgsqlBatch(connection);
            batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
            foreach (var command in TenantTransaction.Commands(Guid.NewGuid(), null))
                batch.BatchCommands.Add(command);
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT 1 / 0"));
            batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
            await Assert.ThrowsAsync<PostgresException>(() => batch.ExecuteNonQueryAsync());
        }
        Assert.Equal(clean, await NextRequestSeesAsync(pool));

        // the same physical connection all along: nothing was reset by reconnecting
        Assert.Equal(backend, (await NextRequestSeesAsync(pool)).Split('|')[3]);
    }
}
