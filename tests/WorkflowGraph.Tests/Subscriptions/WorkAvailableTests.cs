using System.Text.Json;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Subscriptions;

/// <summary>
/// workAvailable: waiting workers hear of runs queued on their channels and workflows, of their organisation only.
/// The subscription is proven live by a marker run it must deliver, not by a pause.
/// </summary>
public sealed class WorkAvailableTests(SubscriptionHost host) : IClassFixture<SubscriptionHost>
{
    private async Task<long> EnqueueAsync(TenantWorld world, Guid workflowId, string channel)
    {
        await using var conn = await host.Database.DataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await conn.BecomeTenantAsync(world.OrgId, world.UserId);
        var id = await conn.ScalarAsync<long>("SELECT enqueue_workflow_execution($1, $2::workflow_channel)", workflowId, channel);
        await tx.CommitAsync();
        return id;
    }

    private static long RowId(JsonElement result) =>
        result.GetProperty("data").GetProperty("workAvailable").GetProperty("rowId").GetInt64();

    [Fact]
    public async Task Announces_runs_queued_on_the_workers_channels_and_workflows_and_nothing_else()
    {
        TenantWorld mine, theirs;
        await using (var conn = await host.Database.DataSource.OpenConnectionAsync())
        {
            mine = await TenantWorld.CreateAsync(conn, "Workers");
            theirs = await TenantWorld.CreateAsync(conn, "Others");
        }
        await using var subscription = await TestSubscription.StartAsync(host.Services, mine.OrgId,
            $"subscription {{ workAvailable(channels: [VOICE, EFAX], workflowIds: [\"{Ids.Workflow(mine.WorkflowId)}\"]) " +
            "{ rowId status channel } }");
        Assert.Null(subscription.Errors);

        // markers until one arrives: from then on the subscription is live
        var marker = await EnqueueAsync(mine, mine.WorkflowId, "voice");
        for (var attempt = 0; attempt < 60 && !await subscription.AnyWithinAsync(TimeSpan.FromMilliseconds(500)); attempt++)
            marker = await EnqueueAsync(mine, mine.WorkflowId, "voice");
        while (RowId(await subscription.NextAsync(TimeSpan.FromSeconds(30))) != marker)
        {
        }

        await EnqueueAsync(mine, mine.WorkflowId, "web");             // another channel
        await EnqueueAsync(mine, mine.OtherWorkflowId, "voice");      // another workflow
        await EnqueueAsync(theirs, theirs.WorkflowId, "voice");       // another organisation
        var wanted = await EnqueueAsync(mine, mine.WorkflowId, "efax");

        var next = await subscription.NextAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(wanted, RowId(next));
        Assert.Equal("PENDING", next.GetProperty("data").GetProperty("workAvailable").GetProperty("status").GetString());
        Assert.Equal("EFAX", next.GetProperty("data").GetProperty("workAvailable").GetProperty("channel").GetString());
    }

    [Fact]
    public async Task Refuses_an_empty_channel_list()
    {
        await using var conn = await host.Database.DataSource.OpenConnectionAsync();
        var world = await TenantWorld.CreateAsync(conn, "Empty");
        await using var subscription = await TestSubscription.StartAsync(host.Services, world.OrgId,
            "subscription { workAvailable(channels: []) { rowId } }");
        Assert.Equal("INVALID_ARGUMENT", subscription.Errors![0].GetProperty("extensions").GetProperty("code").GetString());

        var ids = string.Join(", ", Enumerable.Range(0, 101).Select(_ => $"\"{Ids.Workflow(Guid.NewGuid())}\""));
        await using var tooMany = await TestSubscription.StartAsync(host.Services, world.OrgId,
            $"subscription {{ workAvailable(channels: [WEB], workflowIds: [{ids}]) {{ rowId }} }}");
        Assert.Equal("INVALID_ARGUMENT", tooMany.Errors![0].GetProperty("extensions").GetProperty("code").GetString());
    }
}
