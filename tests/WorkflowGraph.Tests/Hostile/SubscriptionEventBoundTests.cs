using System.Text.Json;
using WorkflowGraph.Subscriptions;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Tests.WebSockets;

namespace WorkflowGraph.Tests.Hostile;

/// <summary>A server whose subscriptions may build at most 100 kB of JSON per event, and a heavy selection's statement
/// at most 3 s; its feeds read two events at a time, so that a lane also builds batches read from inside a batch.</summary>
public sealed class EventBoundServer : GraphQLWsServer
{
    public const int MaxEventBytes = 100_000;

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["GraphQL:MaxSubscriptionEventBytes"] = MaxEventBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["GraphQL:SubscriptionBuildTimeoutSeconds"] = "3",
        ["GraphQL:SubscriptionBatchSize"] = "2",
    };
}

/// <summary>
/// The per-event bounds of a subscription: an event whose JSON is over the byte bound, or a selection whose statement
/// runs over its time budget, ends that subscription with a coded error (not its socket), and every other
/// subscription, of the same socket, organisation or another one, keeps receiving each event once, in order.
/// </summary>
public sealed class SubscriptionEventBoundTests(EventBoundServer server) : IClassFixture<EventBoundServer>
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    private static readonly string Light = $$"""
        subscription ($traceId: {{HostileIds.TraceIdType}}) { workflowEvents(traceId: $traceId) { id cursor } }
        """;

    /// <summary>Heavy (a JSON column), but small and reading only the event.</summary>
    private static readonly string EventData = $$"""
        subscription ($traceId: {{HostileIds.TraceIdType}}) { workflowEvents(traceId: $traceId) { id cursor eventData } }
        """;

    /// <summary>The run's context twice: about 120 kB per event once the context holds a 60 kB value.</summary>
    private const string BigSelection = "{ id cursor traceId a: trace { context { value } } b: trace { context { value } } }";

    private static readonly string BigOfRun = $$"""
        subscription ($traceId: {{HostileIds.TraceIdType}}, $after: String) {
          workflowEvents(traceId: $traceId, after: $after) {{BigSelection}}
        }
        """;

    private static readonly string BigOfAll = $"subscription {{ workflowEvents {BigSelection} }}";

    private static readonly string SlowToBuild = $$"""
        subscription ($traceId: {{HostileIds.TraceIdType}}) { workflowEvents(traceId: $traceId) { id slow: trace { context { key } } } }
        """;

    [Fact]
    public async Task An_event_over_the_byte_bound_ends_only_the_subscription_that_built_it()
    {
        var (traceId, _) = await server.StartRunAsync();
        await LaneWrites.StartStepAsync(server.Database, traceId, 1);
        await using (var connection = await server.Database.DataSource.OpenConnectionAsync())
            await connection.ExecAsync("SELECT set_workflow_context($1, 'large', to_jsonb(repeat('x', 60000)))", traceId);
        var (otherTrace, _) = await server.StartRunAsync(GraphApiFixture.OrgB);
        await LaneWrites.StartStepAsync(server.Database, otherTrace, 1, GraphApiFixture.OrgB);
        var run = new { traceId = HostileIds.Trace(traceId) };

        await using var both = await server.ConnectAsync();
        await both.SubscribeAsync("big", BigOfRun, run);
        await both.SubscribeAsync("light", Light, run);
        await using var data = await server.ConnectAsync();
        await data.SubscribeAsync("data", EventData, run);
        // another organisation's subscriber of the same selection, over all of its events: its own runs only
        await using var other = await server.ConnectAsync(GraphApiFixture.OrgB);
        await other.SubscribeAsync("big", BigOfAll);
        await Task.Delay(500); // the subscriptions join their feeds

        for (var step = 2; step <= 4; step++)
            await LaneWrites.StartStepAsync(server.Database, traceId, step);
        await LaneWrites.StartStepAsync(server.Database, otherTrace, 2, GraphApiFixture.OrgB);

        var error = await EndedAsync(both, "big");
        Assert.Equal(Subscriber.EventTooLargeCode, error.GetProperty("extensions").GetProperty("code").GetString());
        Assert.Contains($"the most is {EventBoundServer.MaxEventBytes}", error.GetProperty("message").GetString(),
            StringComparison.Ordinal);

        var light = await EventsAsync(both, "light", 3);
        Assert.Equal(Keys(light), Keys(await EventsAsync(data, "data", 3)));
        var others = await EventsAsync(other, "big", 1);
        Assert.All(others, e => Assert.Equal(Ids.Trace(otherTrace), e.GetProperty("traceId").GetString()));
        await both.NothingForAsync("light", Quiet);
        await data.NothingForAsync("data", Quiet);
        await other.NothingForAsync("big", Quiet);
        Assert.False(both.IsClosed);

        // a replay builds the same selection under the same bound
        await both.SubscribeAsync("replay", BigOfRun,
            new { traceId = HostileIds.Trace(traceId), after = light[0].GetProperty("cursor").GetString() });
        var replayed = await EndedAsync(both, "replay");
        Assert.Equal(Subscriber.EventTooLargeCode, replayed.GetProperty("extensions").GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_selection_over_its_time_budget_ends_alone_and_the_others_miss_nothing()
    {
        var (traceId, _) = await server.StartRunAsync();
        await LaneWrites.StartStepAsync(server.Database, traceId, 1);
        var run = new { traceId = HostileIds.Trace(traceId) };

        await using var both = await server.ConnectAsync();
        await both.SubscribeAsync("slow", SlowToBuild, run);
        await both.SubscribeAsync("light", Light, run);
        await using var data = await server.ConnectAsync();
        await data.SubscribeAsync("data", EventData, run);
        await Task.Delay(500); // the subscriptions join their feed

        await using (var holder = await server.Database.DataSource.OpenConnectionAsync())
        {
            // building the slow selection reads the runs' context, which this transaction holds past the budget
            await holder.ExecAsync("BEGIN");
            await holder.ExecAsync("LOCK TABLE workflow_trace_context IN ACCESS EXCLUSIVE MODE");
            for (var step = 2; step <= 4; step++)
                await LaneWrites.StartStepAsync(server.Database, traceId, step);
            var error = await EndedAsync(both, "slow", TimeSpan.FromSeconds(30));
            Assert.Equal(Subscriber.EventTooCostlyCode, error.GetProperty("extensions").GetProperty("code").GetString());
            await holder.ExecAsync("ROLLBACK");
        }
        // three events in one transaction: read two, then the rest of that batch from inside it
        await LaneWrites.StartStepsAsync(server.Database, traceId, 5, 3);

        var light = await EventsAsync(both, "light", 6);
        Assert.Equal(Keys(light), Keys(await EventsAsync(data, "data", 6)));
        Assert.Equal(6, light.Select(e => e.GetProperty("id").GetString()).Distinct().Count());
        await both.NothingForAsync("light", Quiet);
        await both.NothingForAsync("slow", Quiet);
        await data.NothingForAsync("data", Quiet);
        Assert.False(both.IsClosed);
    }

    /// <summary>A stream's end as the protocol says it: a last <c>next</c> carrying the error, then <c>complete</c>.</summary>
    private static async Task<JsonElement> EndedAsync(GraphQLWsTestClient client, string id, TimeSpan? timeout = null)
    {
        var last = await client.NextAsync(id, timeout);
        await client.CompletedAsync(id);
        Assert.Equal(JsonValueKind.Null, last.GetProperty("data").ValueKind);
        return last.GetProperty("errors")[0].Clone();
    }

    private static List<(string?, string?)> Keys(List<JsonElement> events) =>
        events.Select(e => (e.GetProperty("id").GetString(), e.GetProperty("cursor").GetString())).ToList();

    /// <summary>The next <paramref name="count"/> events of an operation.</summary>
    private static async Task<List<JsonElement>> EventsAsync(GraphQLWsTestClient client, string id, int count)
    {
        var events = new List<JsonElement>();
        for (var i = 0; i < count; i++)
            events.Add((await client.NextAsync(id)).GetProperty("data").GetProperty("workflowEvents").Clone());
        return events;
    }
}

/// <summary>A server whose heavy selections' lanes may hold at most four events waiting, with a budget long enough that
/// only that bound is reached.</summary>
public sealed class LaneBacklogServer : GraphQLWsServer
{
    public const int Backlog = 4;

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["GraphQL:SubscriptionReplayBacklog"] = Backlog.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["GraphQL:SubscriptionBuildTimeoutSeconds"] = "60",
    };
}

/// <summary>A lane that cannot build as fast as events arrive holds at most its backlog, then ends its selection alone.</summary>
public sealed class LaneBacklogTests(LaneBacklogServer server) : IClassFixture<LaneBacklogServer>
{
    [Fact]
    public async Task A_lane_past_its_backlog_ends_its_selection_and_the_light_one_goes_on()
    {
        var (traceId, _) = await server.StartRunAsync();
        await LaneWrites.StartStepAsync(server.Database, traceId, 1);
        var run = new { traceId = HostileIds.Trace(traceId) };
        await using var client = await server.ConnectAsync();
        await client.SubscribeAsync("slow", $$"""
            subscription ($traceId: {{HostileIds.TraceIdType}}) { workflowEvents(traceId: $traceId) { id trace { context { key } } } }
            """, run);
        await client.SubscribeAsync("light", $$"""
            subscription ($traceId: {{HostileIds.TraceIdType}}) { workflowEvents(traceId: $traceId) { id } }
            """, run);
        await Task.Delay(500); // the subscriptions join their feed

        await using (var holder = await server.Database.DataSource.OpenConnectionAsync())
        {
            await holder.ExecAsync("BEGIN");
            await holder.ExecAsync("LOCK TABLE workflow_trace_context IN ACCESS EXCLUSIVE MODE");
            // one event at a time (each its own read), while the lane cannot build the first
            for (var step = 2; step < 2 + LaneBacklogServer.Backlog + 2; step++)
            {
                await LaneWrites.StartStepAsync(server.Database, traceId, step);
                await client.NextAsync("light");
            }
            var last = await client.NextAsync("slow", TimeSpan.FromSeconds(30));
            await client.CompletedAsync("slow");
            var error = last.GetProperty("errors")[0];
            Assert.Equal(Subscriber.EventTooCostlyCode, error.GetProperty("extensions").GetProperty("code").GetString());
            Assert.Contains("as fast as they arrived", error.GetProperty("message").GetString(), StringComparison.Ordinal);
            await holder.ExecAsync("ROLLBACK");
        }
        await LaneWrites.StartStepAsync(server.Database, traceId, 10);
        await client.NextAsync("light");
        await client.NothingForAsync("slow", TimeSpan.FromMilliseconds(300));
        Assert.False(client.IsClosed);
    }
}
