using WorkflowGraph.Database;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

public sealed class EventPartitionMaintenanceTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task Recreates_the_months_ahead_and_then_has_nothing_to_do()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var future = await conn.ScalarAsync<string>(
            "SELECT 'workflow_events_p' || to_char(date_trunc('month', now() AT TIME ZONE 'UTC') + interval '2 months', 'YYYYMM')");
        await conn.ExecAsync($"DROP TABLE {future}");

        Assert.True(await EventPartitionMaintenance.EnsureAsync(db.OwnerConnectionString, CancellationToken.None) >= 1);
        Assert.Equal(0, await EventPartitionMaintenance.EnsureAsync(db.OwnerConnectionString, CancellationToken.None));
        Assert.NotNull(await conn.ScalarAsync<string?>($"SELECT to_regclass('{future}')::text"));
    }
}
