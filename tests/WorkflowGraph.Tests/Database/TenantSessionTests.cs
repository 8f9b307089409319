using Npgsql;
using WorkflowGraph.Database;
using WorkflowGraph.Development;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

public sealed class TenantSessionTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task Runs_as_the_service_role_with_the_tenant_set_for_the_transaction_only()
    {
        var org = Guid.NewGuid();
        var user = Guid.NewGuid();

        await using (var session = await db.OpenAsTenantAsync(org, user))
        {
            await using var command = session.CreateCommand(
                "SELECT current_user::text, app_current_org_id(), app_current_user_id()");
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(TenantTransaction.AppRole, reader.GetString(0));
            Assert.Equal(org, reader.GetGuid(1));
            Assert.Equal(user, reader.GetGuid(2));
        }

        // The pooled connection goes back clean: role and tenant were transaction-local.
        await using var plain = await db.DataSource.OpenConnectionAsync();
        await using var check = new NpgsqlCommand(
            "SELECT current_user::text, coalesce(current_setting('app.current_org_id', true), '')", plain);
        await using var after = await check.ExecuteReaderAsync();
        Assert.True(await after.ReadAsync());
        Assert.Equal(EmbeddedPostgres.OwnerName, after.GetString(0));
        Assert.Equal("", after.GetString(1));
    }

    [Fact]
    public async Task Without_a_tenant_the_current_org_is_null()
    {
        await using var session = await db.OpenAsTenantAsync(null, null);
        await using var command = session.CreateCommand("SELECT app_current_org_id() IS NULL AND app_current_user_id() IS NULL");
        Assert.True((bool)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task Owner_sessions_can_switch_to_a_tenant_and_back()
    {
        await using var session = await db.OpenAsOwnerAsync();
        await session.BecomeTenantAsync(Guid.NewGuid(), null);
        await session.BecomeOwnerAsync();
        await using var command = session.CreateCommand("SELECT current_user::text");
        Assert.Equal(EmbeddedPostgres.OwnerName, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Dispose_without_commit_rolls_back()
    {
        var name = $"Rolled back {Guid.NewGuid():N}";
        await using (var session = await db.OpenAsOwnerAsync())
        {
            await using var insert = session.CreateCommand("INSERT INTO organizations (name) VALUES ($1)");
            insert.Parameters.Add(new() { Value = name });
            await insert.ExecuteNonQueryAsync();
        }

        await using var count = db.DataSource.CreateCommand("SELECT count(*) FROM organizations WHERE name = $1");
        count.Parameters.Add(new() { Value = name });
        Assert.Equal(0L, await count.ExecuteScalarAsync());
    }
}
