using Npgsql;
using WorkflowGraph.Database;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

/// <summary>The request's transaction: isolated statements that fail, in SQL or while being read, leave nothing behind.</summary>
public sealed class RequestDatabaseTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private async Task<Guid> OrgAsync()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        return await conn.ScalarAsync<Guid>("INSERT INTO organizations (name) VALUES ($1) RETURNING id", $"org {Guid.NewGuid():N}");
    }

    private static Statement Insert(string name) =>
        new("INSERT INTO workflows (name) VALUES ($1) RETURNING id", [new NpgsqlParameter { Value = name }]);

    private static Task<long> CountAsync(RequestDatabase database) =>
        database.QueryAsync("SELECT count(*) FROM workflows", [],
            async (reader, ct) => { await reader.ReadAsync(ct); return reader.GetInt64(0); }, CancellationToken.None);

    [Fact]
    public async Task A_failure_while_reading_an_isolated_write_undoes_it_and_the_rest_commits()
    {
        var org = await OrgAsync();
        await using (var database = new RequestDatabase(db.DataSource, new RequestTenant(org, null, TenantRole.Admin),
                         TimeSpan.FromSeconds(30), []))
        {
            await database.QueryAsync([Insert("kept before")], (_, _) => Task.FromResult(0), CancellationToken.None, isolate: true);
            await Assert.ThrowsAsync<InvalidOperationException>(() => database.QueryAsync<int>([Insert("undone")],
                (_, _) => throw new InvalidOperationException("the payload could not be read"), CancellationToken.None, isolate: true));
            await Assert.ThrowsAsync<PostgresException>(() => database.QueryAsync([Insert("kept before")],
                (_, _) => Task.FromResult(0), CancellationToken.None, isolate: true)); // unique (org_id, name)
            await database.QueryAsync([Insert("kept after")], (_, _) => Task.FromResult(0), CancellationToken.None, isolate: true);
            Assert.Equal(2L, await CountAsync(database));
            await database.CommitAsync(CancellationToken.None);
        }

        await using var conn = await db.DataSource.OpenConnectionAsync();
        var rows = await conn.RowsAsync("SELECT name FROM workflows WHERE org_id = $1 ORDER BY name", org);
        var names = rows.Select(r => (string)r["name"]!);
        Assert.Equal(["kept after", "kept before"], names);
    }
}
