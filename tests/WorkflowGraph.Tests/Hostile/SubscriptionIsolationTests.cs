using System.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.WebSockets;

namespace WorkflowGraph.Tests.Hostile;

/// <summary>
/// A server whose WebSockets may queue 512 kB each and 1 MB per organisation (and whose sockets buffer little), so
/// that clients which stop reading large messages hit the byte bounds within a few events.
/// </summary>
public sealed class ByteBoundedServer : GraphQLWsServer
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["GraphQL:SubscriptionSendBufferBytes"] = (512 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["GraphQL:SubscriptionOrganisationBufferBytes"] = (1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["GraphQL:KeepAliveSeconds"] = "0",
        // the selections held back on purpose below wait longer than the default budget would let them
        ["GraphQL:SubscriptionBuildTimeoutSeconds"] = "60",
    };

    protected override void ConfigureHost(IWebHostBuilder host) => host.ConfigureServices(services =>
        services.Configure<SocketTransportOptions>(options => options.CreateBoundListenSocket = endpoint =>
        {
            var socket = SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
            socket.SendBufferSize = 8 * 1024;
            return socket;
        }));
}

/// <summary>Slow sockets with heavy selections are cut by the byte bounds, heavy selections that are slow to build wait
/// in their lanes, and an ordinary subscriber of the same organisation is delayed by neither (measured alone, after the
/// parallel tests).</summary>
[Collection(AloneCollection.Name)]
public sealed class SubscriptionIsolationTests(ByteBoundedServer server, Xunit.Abstractions.ITestOutputHelper output)
    : IClassFixture<ByteBoundedServer>
{
    private const int Events = 25;

    /// <summary>About 200 kB per event: the run's 64 kB context value, three times over.</summary>
    private static readonly string Heavy = $$"""
        subscription ($traceId: {{HostileIds.TraceIdType}}) {
          workflowEvents(traceId: $traceId) { id trace { a: context { value } b: context { value } c: context { value } } }
        }
        """;

    private static readonly string Light = $$"""
        subscription ($traceId: {{HostileIds.TraceIdType}}) { workflowEvents(traceId: $traceId) { id } }
        """;

    [Fact]
    public async Task Three_sockets_that_do_not_read_large_messages_are_cut_and_do_not_delay_a_reader()
    {
        var (traceId, _) = await server.StartRunAsync();
        await using (var connection = await server.Database.DataSource.OpenConnectionAsync())
            await connection.ExecAsync("SELECT set_workflow_context($1, 'large', to_jsonb(repeat('x', 60000)))", traceId);

        var slow = new List<GraphQLWsTestClient>();
        for (var i = 0; i < 3; i++)
        {
            var client = await GraphQLWsTestClient.ConnectAsync(
                server.WebSocketUri, startReading: false, invoker: SlowConsumerTests.SmallReceiveBuffer());
            await client.InitAsync(new { Authorization = GraphQLWsServer.Bearer() });
            await client.SubscribeAsync("s", Heavy, new { traceId = HostileIds.Trace(traceId) });
            slow.Add(client);
        }
        await using var reader = await server.ConnectAsync();
        await reader.SubscribeAsync("s", Light, new { traceId = HostileIds.Trace(traceId) });
        await Task.Delay(500); // the subscriptions join their feed

        var slowest = TimeSpan.Zero;
        for (var i = 0; i < Events; i++)
        {
            var lag = Stopwatch.StartNew();
            await using (var connection = await server.Database.DataSource.OpenConnectionAsync())
                await connection.ExecAsync("SELECT set_workflow_context($1, 'n' || $2, '1')", traceId, i);
            await reader.NextAsync("s");
            slowest = lag.Elapsed > slowest ? lag.Elapsed : slowest;
        }
        output.WriteLine($"the reader's slowest delivery: {slowest.TotalMilliseconds:0} ms");
        Assert.True(slowest < TimeSpan.FromSeconds(1), $"the reader waited up to {slowest.TotalMilliseconds:0} ms for an event");

        // the heavy selection is built in its lane, behind the reader: once it has built every event, the slow sockets
        // have been handed them all
        await LaneWrites.LanesIdleAsync(server.Services, GraphApiFixture.OrgA);
        foreach (var client in slow)
        {
            client.StartReading();
            Assert.StartsWith("Slow consumer", await client.ExpectCloseAsync(1013));
            Assert.InRange(client.TakeReceived("s").Count, 0, Events - 1);
            await client.DisposeAsync();
        }
        Assert.False(reader.IsClosed);
    }

    /// <summary>A heavy selection (it follows the run to its context) with its own alias: each is a shape of its own.</summary>
    private static string ContextSelection(string alias) => $$"""
        subscription ($traceId: {{HostileIds.TraceIdType}}) {
          workflowEvents(traceId: $traceId) { id cursor {{alias}}: trace { context { key } } }
        }
        """;

    private static readonly string LightWithCursor = $$"""
        subscription ($traceId: {{HostileIds.TraceIdType}}) { workflowEvents(traceId: $traceId) { id cursor } }
        """;

    [Fact]
    public async Task Three_heavy_selections_that_are_slow_to_build_do_not_delay_a_light_subscriber_and_miss_nothing()
    {
        const int events = 10;
        var (traceId, _) = await server.StartRunAsync();
        await LaneWrites.StartStepAsync(server.Database, traceId, 1); // the run becomes active: one event more, before anyone listens

        var heavy = new List<GraphQLWsTestClient>();
        for (var i = 0; i < 3; i++)
        {
            var client = await server.ConnectAsync();
            await client.SubscribeAsync("s", ContextSelection($"run{i}"), new { traceId = HostileIds.Trace(traceId) });
            heavy.Add(client);
        }
        await using var reader = await server.ConnectAsync();
        await reader.SubscribeAsync("s", LightWithCursor, new { traceId = HostileIds.Trace(traceId) });
        await Task.Delay(500); // the subscriptions join their feed

        // building the heavy selections reads the runs' context: while another transaction holds that table, each
        // of their statements waits (as a costly one would take its time); the light one never reads it
        var delivered = new List<(string Id, string Cursor)>();
        await using (var holder = await server.Database.DataSource.OpenConnectionAsync())
        {
            await holder.ExecAsync("BEGIN");
            await holder.ExecAsync("LOCK TABLE workflow_trace_context IN ACCESS EXCLUSIVE MODE");
            var slowest = TimeSpan.Zero;
            for (var i = 0; i < events; i++)
            {
                var lag = Stopwatch.StartNew();
                await LaneWrites.StartStepAsync(server.Database, traceId, i + 2);
                var next = (await reader.NextAsync("s")).GetProperty("data").GetProperty("workflowEvents");
                slowest = lag.Elapsed > slowest ? lag.Elapsed : slowest;
                delivered.Add((next.GetProperty("id").GetString()!, next.GetProperty("cursor").GetString()!));
            }
            output.WriteLine($"the light subscriber's slowest delivery: {slowest.TotalMilliseconds:0} ms");
            Assert.True(slowest < TimeSpan.FromSeconds(1), $"the light subscriber waited up to {slowest.TotalMilliseconds:0} ms");
            foreach (var client in heavy)
                Assert.Empty(client.TakeReceived("s")); // still waiting to be built
            await holder.ExecAsync("ROLLBACK");
        }

        // once they can be built, the heavy ones get every event once, in order, with the cursors the light one got
        foreach (var client in heavy)
        {
            var received = new List<(string Id, string Cursor)>();
            for (var i = 0; i < events; i++)
            {
                var next = (await client.NextAsync("s")).GetProperty("data").GetProperty("workflowEvents");
                received.Add((next.GetProperty("id").GetString()!, next.GetProperty("cursor").GetString()!));
            }
            Assert.Equal(delivered, received);
            await client.NothingForAsync("s", TimeSpan.FromMilliseconds(200));
            await client.DisposeAsync();
        }
    }
}
