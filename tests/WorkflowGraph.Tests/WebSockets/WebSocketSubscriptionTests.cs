using System.Text.Json;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.WebSockets;

/// <summary>A server allowing three operations per connection, so the limit is quick to reach.</summary>
public sealed class SubscriptionServer : GraphQLWsServer
{
    public const int MaxSubscriptions = 3;

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["GraphQL:MaxSubscriptionsPerConnection"] = MaxSubscriptions.ToString(),
    };
}

/// <summary>Streaming operations over graphql-transport-ws: a <c>next</c> per event, the client's <c>complete</c>, ids in
/// use, the per-connection limit. Each test follows a run of its own, from the cursor of its first event (a replay, so
/// no test depends on how long joining the live stream takes).</summary>
public sealed class WebSocketSubscriptionTests(SubscriptionServer server) : IClassFixture<SubscriptionServer>
{
    private const string Events = """
        subscription ($traceId: ID!, $after: String) {
          workflowEvents(traceId: $traceId, after: $after) { id rowId traceId eventType cursor }
        }
        """;

    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(500);

    private static JsonElement Event(JsonElement payload) => payload.GetProperty("data").GetProperty("workflowEvents");

    [Fact]
    public async Task A_subscription_sends_a_next_per_event_in_commit_order()
    {
        var (traceId, cursor) = await server.StartRunAsync();
        await using var client = await server.ConnectAsync();
        await client.SubscribeAsync("events", Events, new { traceId = Ids.Trace(traceId), after = cursor });

        await server.StartStepAsync(traceId, 1);
        await server.SetContextAsync(traceId, "payer");
        var first = Event(await client.NextAsync("events"));
        var second = Event(await client.NextAsync("events"));

        Assert.Equal(("step_started", traceId), (first.GetProperty("eventType").GetString(), Ids.TraceKey(first.GetProperty("traceId"))));
        Assert.Equal("context_set", second.GetProperty("eventType").GetString());
        Assert.True(second.GetProperty("rowId").GetInt64() > first.GetProperty("rowId").GetInt64());
        await client.NothingForAsync("events", Quiet);
    }

    [Fact]
    public async Task Complete_from_the_client_stops_the_subscription_and_frees_its_id()
    {
        var (traceId, cursor) = await server.StartRunAsync();
        await using var client = await server.ConnectAsync();
        await client.SubscribeAsync("s", Events, new { traceId = Ids.Trace(traceId), after = cursor });
        await server.SetContextAsync(traceId, "one");
        var one = Event(await client.NextAsync("s"));

        await client.CompleteAsync("s");
        await server.SetContextAsync(traceId, "two");
        await client.NothingForAsync("s", Quiet);

        // the id is free again: resuming from the last cursor picks up what was missed
        await client.SubscribeAsync("s", Events, new { traceId = Ids.Trace(traceId), after = one.GetProperty("cursor").GetString() });
        Assert.Equal("context_set", Event(await client.NextAsync("s")).GetProperty("eventType").GetString());
    }

    [Fact]
    public async Task Subscribing_again_with_an_active_id_closes_with_4409()
    {
        var (traceId, cursor) = await server.StartRunAsync();
        await using var client = await server.ConnectAsync();
        await client.SubscribeAsync("dup", Events, new { traceId = Ids.Trace(traceId), after = cursor });
        await server.SetContextAsync(traceId, "k");
        await client.NextAsync("dup");
        await client.SubscribeAsync("dup", Events, new { traceId = Ids.Trace(traceId), after = cursor });
        Assert.Equal("Subscriber for dup already exists", await client.ExpectCloseAsync(4409));
    }

    [Fact]
    public async Task Beyond_the_limit_a_subscribe_gets_an_error_and_the_connection_stays_open()
    {
        var (traceId, cursor) = await server.StartRunAsync();
        await using var client = await server.ConnectAsync();
        for (var i = 1; i <= SubscriptionServer.MaxSubscriptions; i++)
            await client.SubscribeAsync($"s{i}", Events, new { traceId = Ids.Trace(traceId), after = cursor });
        await client.SubscribeAsync("over", Events, new { traceId = Ids.Trace(traceId), after = cursor });
        Assert.Equal(["TOO_MANY_SUBSCRIPTIONS"], GraphQLErrors.Codes(await client.ErrorAsync("over")));

        // the others still deliver; completing one makes room
        await server.SetContextAsync(traceId, "k");
        for (var i = 1; i <= SubscriptionServer.MaxSubscriptions; i++)
            await client.NextAsync($"s{i}");
        await client.CompleteAsync("s1");
        await client.SubscribeAsync("over", Events, new { traceId = Ids.Trace(traceId), after = cursor });
        Assert.Equal("context_set", Event(await client.NextAsync("over")).GetProperty("eventType").GetString());
        Assert.False(client.IsClosed);
    }

    [Fact]
    public async Task A_subscription_that_does_not_validate_answers_error()
    {
        await using var client = await server.ConnectAsync();
        await client.SubscribeAsync("bad", "subscription { workflowEvents(noSuchArgument: 1) { id } }");
        Assert.Contains("KNOWN_ARGUMENT_NAMES", GraphQLErrors.Codes(await client.ErrorAsync("bad")));
        await client.NothingForAsync("bad", TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task A_subscription_argument_that_is_not_a_runs_id_answers_INVALID_ID_and_the_connection_stays_open()
    {
        await using var client = await server.ConnectAsync();
        // the stream cannot start: a result with the error, then complete (as for any error of the source stream)
        await client.SubscribeAsync("step", Events, new { traceId = Ids.Step(1) });
        Assert.Equal(["INVALID_ID"], GraphQLErrors.Codes(await client.NextAsync("step")));
        await client.CompletedAsync("step");
        await client.SubscribeAsync("junk", "subscription ($w: ID) { traceUpdated(workflowId: $w) { id } }", new { w = "not-an-id" });
        Assert.Equal(["INVALID_ID"], GraphQLErrors.Codes(await client.NextAsync("junk")));
        await client.CompletedAsync("junk");
        Assert.False(client.IsClosed);
    }

    [Fact]
    public async Task A_subscription_over_http_post_is_refused_with_SUBSCRIPTION_NOT_ALLOWED()
    {
        var body = await server.PostAsync("subscription { workflowEvents { id } }");
        Assert.Equal(["SUBSCRIPTION_NOT_ALLOWED"], GraphQLErrors.Codes(body));
        Assert.False(body.TryGetProperty("data", out _));
    }

    [Fact]
    public async Task The_operation_runs_as_the_tenant_of_the_connections_token()
    {
        // org B's connection following org A's run sees nothing of it, even from its first event
        var (traceId, cursor) = await server.StartRunAsync(GraphApiFixture.OrgA);
        await using var orgB = await server.ConnectAsync(GraphApiFixture.OrgB);
        await using var orgA = await server.ConnectAsync(GraphApiFixture.OrgA);
        await orgB.SubscribeAsync("s", Events, new { traceId = Ids.Trace(traceId), after = cursor });
        await orgA.SubscribeAsync("s", Events, new { traceId = Ids.Trace(traceId), after = cursor });
        await server.SetContextAsync(traceId, "k");
        await orgA.NextAsync("s");
        var foreign = await orgB.MessageAsync("s", Quiet)
            .ContinueWith(task => task.IsCompletedSuccessfully ? task.Result : (JsonElement?)null);
        Assert.True(foreign is null || GraphQLWsTestClient.Type(foreign.Value) != "next", $"org B received {foreign}");
    }
}
