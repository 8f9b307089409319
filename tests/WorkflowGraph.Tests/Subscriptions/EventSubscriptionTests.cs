using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using WorkflowGraph.Subscriptions;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Subscriptions;

/// <summary>workflowEvents and traceUpdated through the service's engine and live feeds, against a real database.</summary>
public sealed class EventSubscriptionTests(SubscriptionHost host) : IClassFixture<SubscriptionHost>
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(700);

    private async Task<TenantWorld> WorldAsync(string label)
    {
        await using var conn = await host.Database.DataSource.OpenConnectionAsync();
        return await TenantWorld.CreateAsync(conn, label);
    }

    private async Task<T> WithConnection<T>(Func<NpgsqlConnection, Task<T>> work)
    {
        await using var conn = await host.Database.DataSource.OpenConnectionAsync();
        return await work(conn);
    }

    private static JsonElement Event(JsonElement result) => result.GetProperty("data").GetProperty("workflowEvents");

    /// <summary>Subscribes live and waits until the stream demonstrably delivers (a marker event on a run of its own).</summary>
    private async Task<TestSubscription> LiveAsync(TenantWorld world, string arguments,
        string selection = "id rowId traceId eventType cursor")
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
        await using var subscription = await LiveAsync(world, $"(traceId: \"{Ids.Trace(traceId)}\")",
            "id rowId eventType eventData trace { id rowId status } cursor");

        var stepId = await WithConnection(c => world.StartStepAsync(c, traceId, 1));
        await WithConnection(async c => { await TenantWorld.CompleteStepAsync(c, stepId, "completed"); return 0; });

        var started = Event(await subscription.NextAsync());
        Assert.Equal("step_started", started.GetProperty("eventType").GetString());
        Assert.Equal(traceId, started.GetProperty("trace").GetProperty("rowId").GetInt64());
        Assert.Equal(["id", "rowId", "eventType", "eventData", "trace", "cursor"], started.EnumerateObject().Select(p => p.Name));
        var completed = Event(await subscription.NextAsync());
        Assert.Equal("step_completed", completed.GetProperty("eventType").GetString());
        Assert.True(completed.GetProperty("rowId").GetInt64() > started.GetProperty("rowId").GetInt64());
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
            $"subscription {{ workflowEvents(traceId: \"{Ids.Trace(traceId)}\", after: \"{cursor}\") {{ id rowId }} }}");
        Assert.Null(subscription.Errors);
        var received = new List<long>();
        for (var i = 1; i < expected.Count; i++)
            received.Add(Event(await subscription.NextAsync()).GetProperty("rowId").GetInt64());
        Assert.Equal(expected.Skip(1).Select(r => (long)r["id"]!), received);

        // then live
        await WithConnection(c => world.StartStepAsync(c, traceId, 4));
        Assert.Equal("step_started", await TypeOfAsync(Event(await subscription.NextAsync())));
        Assert.False(await subscription.AnyWithinAsync(Quiet));

        async Task<string> TypeOfAsync(JsonElement e) =>
            await WithConnection(c =>
                c.ScalarAsync<string>("SELECT event_type FROM workflow_events WHERE id = $1", e.GetProperty("rowId").GetInt64()));
    }

    [Fact]
    public async Task A_subscriber_of_another_organisation_receives_nothing_whatever_it_filters_on()
    {
        var a = await WorldAsync("Tenant A");
        var b = await WorldAsync("Tenant B");
        var traceA = await WithConnection(c => a.StartRunAsync(c));
        var cursorA = await QueryCursorAsync(a, traceA);
        var bSubscriptions = new List<TestSubscription>();
        foreach (var query in new[]
                 {
                     "workflowEvents { id rowId }",
                     $"workflowEvents(traceId: \"{Ids.Trace(traceA)}\") {{ id rowId }}",
                     $"workflowEvents(workflowId: \"{Ids.Workflow(a.WorkflowId)}\") {{ id rowId }}",
                     "workflowEvents(eventTypes: [\"step_started\", \"workflow_completed\"]) { id rowId }",
                     $"workflowEvents(traceId: \"{Ids.Trace(traceA)}\", after: \"{cursorA}\") {{ id rowId }}",
                     "traceUpdated { id rowId }",
                     $"traceUpdated(workflowId: \"{Ids.Workflow(a.WorkflowId)}\") {{ id rowId }}",
                 })
        {
            var subscription = await TestSubscription.StartAsync(host.Services, b.OrgId, $"subscription {{ {query} }}");
            Assert.Null(subscription.Errors);
            bSubscriptions.Add(subscription);
        }
        await using var aSubscription = await LiveAsync(a, $"(traceId: \"{Ids.Trace(traceA)}\")");
        await Task.Delay(200);

        var stepA = await WithConnection(c => a.StartStepAsync(c, traceA, 1));
        await WithConnection(async c => { await TenantWorld.CompleteStepAsync(c, stepA, "completed"); return 0; });
        await WithConnection(c => c.ExecAsync("SELECT complete_workflow_execution($1, 'completed', NULL)", traceA));
        for (var i = 0; i < 3; i++)
            Assert.Equal(traceA, Ids.TraceKey(Event(await aSubscription.NextAsync()).GetProperty("traceId")));

        // B's own run reaches B's unfiltered subscribers: proof that they were live while A's events passed
        var traceB = await WithConnection(c => b.StartRunAsync(c));
        var bOwn = Event(await bSubscriptions[0].NextAsync());
        Assert.Equal(await WithConnection(c => c.ScalarAsync<long>("SELECT min(id) FROM workflow_events WHERE trace_id = $1", traceB)),
            bOwn.GetProperty("rowId").GetInt64());
        var updated = (await bSubscriptions[5].NextAsync()).GetProperty("data").GetProperty("traceUpdated");
        Assert.Equal(traceB, updated.GetProperty("rowId").GetInt64());
        foreach (var subscription in bSubscriptions)
        {
            Assert.False(await subscription.AnyWithinAsync(TimeSpan.FromMilliseconds(300)));
            await subscription.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_client_that_reconnects_with_its_last_cursor_receives_every_event_once_while_writers_commit_out_of_order()
    {
        var world = await WorldAsync("Resume");
        var traces = new List<long>();
        for (var i = 0; i < 6; i++)
            traces.Add(await WithConnection(c => world.StartRunAsync(c)));
        var start = await QueryCursorAsync(world, traces[0]);
        var startId = await WithConnection(c => c.ScalarAsync<long>("SELECT min(id) FROM workflow_events WHERE trace_id = $1", traces[0]));

        // six writers, one run each, transactions of different lengths: commits land out of id order
        using var stop = new CancellationTokenSource();
        var writers = traces.Select((traceId, w) => Task.Run(async () =>
        {
            var random = new Random(w);
            var step = 0;
            while (!stop.IsCancellationRequested)
            {
                await using var conn = await host.Database.DataSource.OpenConnectionAsync();
                await using var tx = await conn.BeginTransactionAsync();
                var stepId = await world.StartStepAsync(conn, traceId, ++step);
                await Task.Delay(random.Next(0, 40));
                await conn.ExecAsync("SELECT set_workflow_context($1, 'k', to_jsonb($2))", traceId, step);
                await TenantWorld.CompleteStepAsync(conn, stepId, "completed");
                await tx.CommitAsync();
                await Task.Delay(random.Next(0, 20));
            }
        })).ToList();

        var received = new List<(long Id, long TraceId)>();
        var cursor = start;
        string Query(string after) =>
            $"subscription {{ workflowEvents(workflowId: \"{Ids.Workflow(world.WorkflowId)}\", after: \"{after}\") " +
            "{ id rowId traceId cursor } }";
        for (var connection = 0; connection < 8; connection++)
        {
            await using var subscription = await TestSubscription.StartAsync(host.Services, world.OrgId,
                Query(cursor));
            Assert.Null(subscription.Errors);
            // read for a while: the replay, the switch to live, live events; then drop the connection mid-stream
            var until = DateTime.UtcNow.AddMilliseconds(300);
            while (DateTime.UtcNow < until)
            {
                var e = Event(await subscription.NextAsync());
                received.Add((e.GetProperty("rowId").GetInt64(), Ids.TraceKey(e.GetProperty("traceId"))));
                cursor = e.GetProperty("cursor").GetString()!;
            }
            await Task.Delay(50); // disconnected while the writers go on
        }
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        await using (var last = await TestSubscription.StartAsync(host.Services, world.OrgId, Query(cursor)))
            while (await last.AnyWithinAsync(TimeSpan.FromSeconds(1)))
            {
                var e = Event(await last.NextAsync());
                received.Add((e.GetProperty("rowId").GetInt64(), Ids.TraceKey(e.GetProperty("traceId"))));
            }

        var expected = (await WithConnection(c => c.RowsAsync(
                "SELECT e.id FROM workflow_events e JOIN workflow_trace t ON t.id = e.trace_id " +
                "WHERE t.workflow_id = $1 AND e.id > $2 ORDER BY e.id",
                world.WorkflowId, startId)))
            .Select(r => (long)r["id"]!).ToList();
        Assert.Equal(received.Count, received.Select(r => r.Id).Distinct().Count()); // nothing twice
        Assert.Equal(expected, received.Select(r => r.Id).Order());                   // nothing missing
        foreach (var run in received.GroupBy(r => r.TraceId))                       // each run's events in order
            Assert.Equal(run.Select(r => r.Id).Order(), run.Select(r => r.Id));
        Assert.True(expected.Count > 100, $"only {expected.Count} events were written");
        // commits landed out of id order across runs (else ids alone would have done, and this test proves less)
        Assert.NotEqual(received.Select(r => r.Id).Order(), received.Select(r => r.Id));
    }

    [Fact]
    public async Task Events_committed_while_the_listener_connection_is_down_still_arrive()
    {
        var world = await WorldAsync("Fault");
        var traceId = await WithConnection(c => world.StartRunAsync(c));
        await using var subscription = await LiveAsync(world, $"(traceId: \"{Ids.Trace(traceId)}\")", "id rowId");

        // the LISTEN connections of every instance on this database (each holds one)
        const string listeners = "FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN workflow_events'";
        var cut = new List<int>();
        var ids = new List<long>();
        for (var step = 1; step <= 40; step++)
        {
            if (step == 15)
            {
                var terminated = await WithConnection(c => c.RowsAsync($"SELECT pid, pg_terminate_backend(pid) AS terminated {listeners}"));
                Assert.NotEmpty(terminated);
                Assert.All(terminated, row => Assert.True((bool)row["terminated"]!));
                cut.AddRange(terminated.Select(row => (int)row["pid"]!));
            }
            await WithConnection(c => world.StartStepAsync(c, traceId, step));
        }
        // each instance listens again, on a new connection
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var listenersAgain = $"SELECT count(*) {listeners} AND pid <> ALL ($1)";
        while (await WithConnection(c => c.ScalarAsync<long>(listenersAgain, (object)cut.ToArray())) < cut.Count)
        {
            Assert.True(DateTime.UtcNow < deadline, "the listener did not reconnect");
            await Task.Delay(20);
        }
        const string stepStarts = "SELECT id FROM workflow_events WHERE trace_id = $1 AND event_type = 'step_started' ORDER BY id";
        var expected = (await WithConnection(c => c.RowsAsync(stepStarts, traceId)))
            .Select(r => (long)r["id"]!).ToList();
        foreach (var _ in expected)
            ids.Add(Event(await subscription.NextAsync()).GetProperty("rowId").GetInt64());
        Assert.Equal(expected, ids);
        Assert.False(await subscription.AnyWithinAsync(Quiet));
    }

    [Fact]
    public async Task A_mutation_on_one_instance_reaches_a_subscriber_on_another()
    {
        var world = await WorldAsync("Instances");
        var other = await host.StartInstanceAsync();
        var traceId = await WithConnection(c => world.StartRunAsync(c));
        await using var subscription = await TestSubscription.StartAsync(other.Services, world.OrgId,
            $"subscription {{ workflowEvents(traceId: \"{Ids.Trace(traceId)}\") {{ id rowId eventType eventData }} }}");
        Assert.Null(subscription.Errors);

        // live only: the subscriber joins the other instance's feed asynchronously, so start steps until an event
        // arrives (a few tries at most); what arrives is the start of one of them, written through this instance
        var started = new List<long>();
        for (var attempt = 1; attempt <= 5 && !await subscription.AnyWithinAsync(TimeSpan.FromSeconds(attempt == 1 ? 0.2 : 2)); attempt++)
        {
            var result = await TestSubscription.QueryAsync(host.Services, world.OrgId,
                $"mutation {{ startWorkflowStep(input: {{ traceId: \"{Ids.Trace(traceId)}\", " +
                $"nodeId: \"{Ids.Node(world.NodeIds[0])}\", stepNumber: {attempt}, " +
                "inputData: { input: 1 } }) { step { id rowId } errors { __typename } } }",
                WorkflowGraph.Tenancy.TenantRole.Operator);
            started.Add(result.GetProperty("data").GetProperty("startWorkflowStep").GetProperty("step").GetProperty("rowId").GetInt64());
        }
        var e = Event(await subscription.NextAsync());
        Assert.Equal("step_started", e.GetProperty("eventType").GetString());
        Assert.Contains(await WithConnection(c =>
            c.ScalarAsync<long>("SELECT step_id FROM workflow_events WHERE id = $1", e.GetProperty("rowId").GetInt64())), started);
    }

    [Fact]
    public async Task traceUpdated_sends_a_run_once_per_delivery_in_the_statuses_asked_for()
    {
        var world = await WorldAsync("Runs");
        await using var finished = await TestSubscription.StartAsync(host.Services, world.OrgId,
            "subscription { traceUpdated(statuses: [COMPLETED, FAILED]) { id status durationMs steps { status } } }");
        await using var all = await TestSubscription.StartAsync(host.Services, world.OrgId,
            $"subscription {{ traceUpdated(workflowId: \"{Ids.Workflow(world.WorkflowId)}\") {{ id rowId status }} }}");
        Assert.Null(finished.Errors);
        await Task.Delay(200);

        var traceId = await WithConnection(c => world.StartRunAsync(c));
        var run = (await all.NextAsync()).GetProperty("data").GetProperty("traceUpdated");
        Assert.Equal(traceId, run.GetProperty("rowId").GetInt64());
        Assert.False(await finished.AnyWithinAsync(TimeSpan.FromMilliseconds(300)));

        await WithConnection(async c =>
        {
            // one transaction, three events: the run is sent once, as it was after them
            await using var tx = await c.BeginTransactionAsync();
            var stepId = await world.StartStepAsync(c, traceId, 1);
            await TenantWorld.CompleteStepAsync(c, stepId, "completed");
            await c.ExecAsync("SELECT complete_workflow_execution($1, 'completed', NULL)", traceId);
            await tx.CommitAsync();
            return 0;
        });
        var done = (await finished.NextAsync()).GetProperty("data").GetProperty("traceUpdated");
        Assert.Equal("COMPLETED", done.GetProperty("status").GetString());
        Assert.Equal("COMPLETED", done.GetProperty("steps")[0].GetProperty("status").GetString());
        var completed = (await all.NextAsync()).GetProperty("data").GetProperty("traceUpdated");
        Assert.Equal("COMPLETED", completed.GetProperty("status").GetString());
        Assert.False(await finished.AnyWithinAsync(Quiet));
        Assert.False(await all.AnyWithinAsync(TimeSpan.FromMilliseconds(100)));
    }

    [Theory]
    [InlineData("not a cursor")]
    [InlineData("MXwxOjE6fDE6MTp8eA")] // 1|1:1:|1:1:|x
    [InlineData("Mnw1OjU6fDU6NTp8MQ")] // version 2
    public async Task A_malformed_cursor_is_refused_before_anything_runs(string cursor)
    {
        var world = await WorldAsync("Cursor");
        await using var subscription = await TestSubscription.StartAsync(host.Services, world.OrgId,
            $"subscription {{ workflowEvents(after: \"{cursor}\") {{ id rowId }} }}");
        Assert.Equal("INVALID_CURSOR", Assert.Single(subscription.Errors!).GetProperty("extensions").GetProperty("code").GetString());
    }

    [Fact]
    public async Task The_cursor_of_an_event_in_a_mutation_payload_resumes_after_that_event()
    {
        var world = await WorldAsync("Payload");
        var traceId = await WithConnection(c => world.StartRunAsync(c));
        var result = await TestSubscription.QueryAsync(host.Services, world.OrgId,
            $"mutation {{ startWorkflowStep(input: {{ traceId: \"{Ids.Trace(traceId)}\", " +
            $"nodeId: \"{Ids.Node(world.NodeIds[0])}\", stepNumber: 1 }}) " +
            "{ step { id rowId events { id eventType cursor } } errors { __typename } } }", WorkflowGraph.Tenancy.TenantRole.Operator);
        var started = result.GetProperty("data").GetProperty("startWorkflowStep").GetProperty("step").GetProperty("events")[0];
        Assert.Equal("step_started", started.GetProperty("eventType").GetString());

        await using var subscription = await TestSubscription.StartAsync(host.Services, world.OrgId,
            $"subscription {{ workflowEvents(traceId: \"{Ids.Trace(traceId)}\", after: \"{started.GetProperty("cursor").GetString()}\") " +
            "{ id eventType } }");
        Assert.False(await subscription.AnyWithinAsync(Quiet)); // not its own event again
        await WithConnection(c => c.ExecAsync("SELECT set_workflow_context($1, 'k', '1'::jsonb)", traceId));
        Assert.Equal("context_set", Event(await subscription.NextAsync()).GetProperty("eventType").GetString());
    }

    [Fact]
    public async Task A_cursor_from_beyond_the_end_of_the_log_ends_the_subscription_and_leaves_no_feed_behind()
    {
        var world = await WorldAsync("Beyond");
        var beyond = new EventPosition(EventPosition.Nothing, PgSnapshot.Parse("1:99999999999:"), 0).Encode();
        await using var subscription = await TestSubscription.StartAsync(host.Services, world.OrgId,
            $"subscription {{ workflowEvents(after: \"{beyond}\") {{ id rowId }} }}");
        var ended = await subscription.NextAsync();
        Assert.Equal("SUBSCRIPTION_ENDED", ended.GetProperty("errors")[0].GetProperty("extensions").GetProperty("code").GetString());
        var feeds = host.Services.GetRequiredService<FeedRegistry>();
        Assert.False(feeds.TryGet(world.OrgId, out _));

        // and a subscriber that leaves takes its organisation's feed with it
        await using (await LiveAsync(world, ""))
            Assert.True(feeds.TryGet(world.OrgId, out _));
        Assert.False(feeds.TryGet(world.OrgId, out _));
    }

    private async Task<string> QueryCursorAsync(TenantWorld world, long traceId)
    {
        var result = await TestSubscription.QueryAsync(host.Services, world.OrgId,
            $"{{ trace(id: \"{Ids.Trace(traceId)}\") {{ events(first: 1) {{ cursor }} }} }}");
        return result.GetProperty("data").GetProperty("trace").GetProperty("events")[0].GetProperty("cursor").GetString()!;
    }
}
