using Npgsql;

namespace WorkflowGraph.Tests.Database;

/// <summary>Terse SQL for tests: positional parameters ($1, $2, ...) and SQLSTATE assertions.</summary>
internal static class Sql
{
    public static async Task<T> ScalarAsync<T>(this NpgsqlConnection conn, string sql, params object?[] args)
    {
        await using var cmd = Command(conn, sql, args);
        var value = await cmd.ExecuteScalarAsync();
        return value is null or DBNull ? default! : (T)value;
    }

    public static async Task<int> ExecAsync(this NpgsqlConnection conn, string sql, params object?[] args)
    {
        await using var cmd = Command(conn, sql, args);
        return await cmd.ExecuteNonQueryAsync();
    }

    public static async Task<List<Dictionary<string, object?>>> RowsAsync(this NpgsqlConnection conn, string sql, params object?[] args)
    {
        await using var cmd = Command(conn, sql, args);
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<Dictionary<string, object?>>();
        while (await reader.ReadAsync())
        {
            var row = new Dictionary<string, object?>();
            for (var i = 0; i < reader.FieldCount; i++)
                row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>Runs <paramref name="sql"/> inside a savepoint and returns the PostgreSQL error it raised.</summary>
    public static async Task<PostgresException> FailsAsync(this NpgsqlConnection conn, string sql, params object?[] args)
    {
        await conn.ExecAsync("SAVEPOINT expected_failure");
        try
        {
            await conn.ExecAsync(sql, args);
        }
        catch (PostgresException e)
        {
            await conn.ExecAsync("ROLLBACK TO SAVEPOINT expected_failure");
            return e;
        }
        throw new Xunit.Sdk.XunitException($"expected an error from: {sql}");
    }

    /// <summary>Switches the open transaction to the service role of one organisation (graphile's becomeUser).</summary>
    public static async Task BecomeTenantAsync(this NpgsqlConnection conn, Guid? orgId, Guid? userId = null)
    {
        await using var batch = new NpgsqlBatch(conn);
        foreach (var command in WorkflowGraph.Database.TenantTransaction.Commands(orgId, userId))
            batch.BatchCommands.Add(command);
        await batch.ExecuteNonQueryAsync();
    }

    private static NpgsqlCommand Command(NpgsqlConnection conn, string sql, object?[] args)
    {
        var cmd = new NpgsqlCommand(sql, conn);
        foreach (var arg in args)
            cmd.Parameters.Add(new NpgsqlParameter { Value = arg ?? DBNull.Value });
        return cmd;
    }
}
