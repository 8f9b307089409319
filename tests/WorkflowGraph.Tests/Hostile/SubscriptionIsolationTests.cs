using System.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
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
    };

    protected override void ConfigureHost(IWebHostBuilder host) => host.ConfigureServices(services =>
        services.Configure<SocketTransportOptions>(options => options.CreateBoundListenSocket = endpoint =>
        {
            var socket = SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
            socket.SendBufferSize = 8 * 1024;
            return socket;
        }));
}

/// <summary>Slow sockets with heavy selections are cut by the byte bounds, and an ordinary subscriber of the same
/// organisation is not delayed by them (measured alone, after the parallel tests).</summary>
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

        foreach (var client in slow)
        {
            client.StartReading();
            Assert.StartsWith("Slow consumer", await client.ExpectCloseAsync(1013));
            Assert.InRange(client.TakeReceived("s").Count, 0, Events - 1);
            await client.DisposeAsync();
        }
        Assert.False(reader.IsClosed);
    }
}
