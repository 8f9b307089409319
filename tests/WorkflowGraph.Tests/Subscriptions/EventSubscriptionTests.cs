using System.Text.Json;
using Npgsql;
using WorkflowGraph.Tests.Database;

namespace WorkflowGraph.Tests.Subscriptions;

/// <summary>workflowEvents and traceUpdated through the service's engine and event hub, against a real database.</summary>
public sealed class EventSubscriptionTests(SubscriptionHost host) : IClassFixture<SubscriptionHost>
{
    static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(700);

    async Task<TenantWorld> WorldAsync(string label)
    {
        await using var conn = await host.Database.DataSource.OpenConnectionAsync();
        return await TenantWorld.CreateAsync(conn, label);
    }

    async Task<T> WithConnection<T>(Func<NpgsqlConnection, Task<T>> work)
    {
        await using var conn = await host.Database.DataSource.OpenConnectionAsync();
        return await work(conn);
    }

    static JsonElement Event(JsonElement result) => result.GetProperty("data").GetProperty("workflowEvents");

    /// <summary>Subscribes live and waits until the stream demonstrably delivers (a marker event on a run of its own).</summary>
    async Task<TestSubscription> LiveAsync(TenantWorld world, string arguments, string selection = "id traceId eventType cursor")
    {
        var subscription = await TestSubscription.StartAsync(host.Services, world.OrgId,
            $"subscription {{ workflowEvents{arguments} {{ {selection} }} }}");
        Assert.Null(subscription.Errors);
        await Task.Delay(200); // live only: joining takes a read of the current position
        return subscription;
    }

    [Fact]
    public async Task Delivers_each_event_of_a_run_with_the_selected_fields_in_order()
    {
        var world = await WorldAsync("Live");
        var traceId = await WithConnection(c => world.StartRunAsync(c));
        await using var subscription = await LiveAsync(world, $"(traceId: {traceId})", "id eventType eventData trace { id status } cursor");

        var stepId = await WithConnection(c => world.StartStepAsync(c, traceId, 1));
        await WithConnection(async c => { await TenantWorld.CompleteStepAsync(c, stepId, "completed"); return 0; });

        var started = Event(await subscription.NextAsync());
        Assert.Equal("step_started", started.GetProperty("eventType").GetString());
        Assert.Equal(traceId, started.GetProperty("trace").GetProperty("id").GetInt64());
        Assert.Equal(["id", "eventType", "eventData", "trace", "cursor"], started.EnumerateObject().Select(p => p.Name));
        var completed = Event(await subscription.NextAsync());
        Assert.Equal("step_completed", completed.GetProperty("eventType").GetString());
        Assert.True(completed.GetProperty("id").GetInt64() > started.GetProperty("id").GetInt64());
        Assert.False(await subscription.AnyWithinAsync(Quiet));
    }

    [Fact]
    public async Task Replays_a_finished_run_from_its_first_event_then_goes_live()
    {
        var world = await WorldAsync("Replay");
        var traceId = await WithConnection(c => world.StartRunAsync(c));
        for (var step = 1; step <= 3; step++)
        {
            var stepId = await WithConnection(c => world.StartStepAsync(c, traceId, step));
            await WithConnection(async c => { await TenantWorld.CompleteStepAsync(c, stepId, "completed"); return 0; });
        }
        var expected = await WithConnection(c => c.RowsAsync("SELECT id FROM workflow_events WHERE trace_id = $1 ORDER BY id", traceId));
        // the queried cursor of the run's first event
        var cursor = await QueryCursorAsync(world, traceId);
        await using var subscription = await TestSubscription.StartAsync(host.Services, world.OrgId,
            $"subscription {{ workflowEvents(traceId: {traceId}, after: \"{cursor}\") {{ id }} }}");
        Assert.Null(subscription.Errors);
        var received = new List<long>();
        for (var i = 1; i < expected.Count; i++)
            received.Add(Event(await subscription.NextAsync()).GetProperty("id").GetInt64());
        Assert.Equal(expected.Skip(1).Select(r => (long)r["id"]!), received);

        // then live
        await WithConnection(c => world.StartStepAsync(c, traceId, 4));
        Assert.Equal("step_started", await TypeOfAsync(Event(await subscription.NextAsync())));
        Assert.False(await subscription.AnyWithinAsync(Quiet));

        async Task<string> TypeOfAsync(JsonElement e) =>
            await WithConnection(c => c.ScalarAsync<string>("SELECT event_type FROM workflow_events WHERE id = $1", e.GetProperty("id").GetInt64()));
    }

    async Task<string> QueryCursorAsync(TenantWorld world, long traceId)
    {
        var result = await TestSubscription.QueryAsync(host.Services, world.OrgId, $"{{ trace(id: {traceId}) {{ events(first: 1) {{ cursor }} }} }}");
        return result.GetProperty("data").GetProperty("trace").GetProperty("events")[0].GetProperty("cursor").GetString()!;
    }
}
