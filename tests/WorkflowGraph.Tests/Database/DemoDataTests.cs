using Microsoft.Extensions.Logging.Abstractions;
using WorkflowGraph.Development;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

/// <summary>The demo data the embedded cluster starts with loads through the helper functions and covers what it promises.</summary>
public sealed class DemoDataTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task Loads_once_with_two_organisations_every_status_and_every_channel()
    {
        Assert.True(await DemoData.LoadIfEmptyAsync(db.OwnerConnectionString, NullLogger.Instance));
        Assert.False(await DemoData.LoadIfEmptyAsync(db.OwnerConnectionString, NullLogger.Instance));

        await using var conn = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(2L, await conn.ScalarAsync<long>("SELECT count(*) FROM organizations"));
        Assert.Equal(6L, await conn.ScalarAsync<long>("SELECT count(DISTINCT status) FROM workflow_trace"));
        Assert.Equal(3L, await conn.ScalarAsync<long>("SELECT count(DISTINCT channel) FROM workflow_trace"));
        Assert.Equal(2L, await conn.ScalarAsync<long>("SELECT count(DISTINCT org_id) FROM workflow_trace WHERE status = 'failed'"));
        Assert.True(await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_steps WHERE retry_count > 0") > 0);
        Assert.True(await conn.ScalarAsync<long>("SELECT count(*) FROM v_active_workflow_configs") >= 6);
        // steps and events were spread over the last two weeks, in order within each run
        Assert.Equal(0L, await conn.ScalarAsync<long>(
            "SELECT count(*) FROM workflow_steps s JOIN workflow_trace t ON t.id = s.trace_id WHERE s.start_time < t.start_time"));
        var days = await conn.ScalarAsync<double>(
            "SELECT (extract(epoch FROM max(start_time) - min(start_time)) / 86400)::float8 FROM workflow_trace");
        Assert.True(days > 7);
    }
}
