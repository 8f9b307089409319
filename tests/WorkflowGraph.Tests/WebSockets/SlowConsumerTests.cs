using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.WebSockets;

/// <summary>
/// A server with a send queue of <see cref="SendBuffer"/> messages per connection and small socket send buffers, so a
/// client that stops reading fills everything between it and the queue within a few hundred events instead of the
/// megabytes Linux would otherwise buffer on loopback.
/// </summary>
public sealed class SlowConsumerServer : GraphQLWsServer
{
    public const int SendBuffer = 50;

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["GraphQL:SubscriptionSendBuffer"] = SendBuffer.ToString(),
        ["GraphQL:KeepAliveSeconds"] = "0",
    };

    protected override void ConfigureHost(IWebHostBuilder host) => host.ConfigureServices(services =>
        services.Configure<SocketTransportOptions>(options => options.CreateBoundListenSocket = endpoint =>
        {
            // accepted sockets inherit the listening socket's buffer sizes
            var socket = SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
            socket.SendBufferSize = 8 * 1024;
            return socket;
        }));
}

public sealed class SlowConsumerTests(SlowConsumerServer server, Xunit.Abstractions.ITestOutputHelper output)
    : IClassFixture<SlowConsumerServer>
{
    private const int Batches = 20, BatchSize = 20, EventCount = Batches * BatchSize;

    /// <summary>About 1.5 kB per event: the event data eight times over.</summary>
    private const string WideEvents = """
        subscription ($traceId: ID!, $after: String) {
          workflowEvents(traceId: $traceId, after: $after) {
            id rowId eventType cursor
            a: eventData b: eventData c: eventData d: eventData e: eventData f: eventData g: eventData h: eventData
          }
        }
        """;

    [Fact]
    public async Task A_client_that_stops_reading_is_cut_with_1013_while_another_keeps_receiving()
    {
        var (traceId, cursor) = await server.StartRunAsync();
        await using var fast = await server.ConnectAsync();
        await using var slow = await GraphQLWsTestClient.ConnectAsync(
            server.WebSocketUri, startReading: false, invoker: SmallReceiveBuffer());
        await slow.InitAsync(new { Authorization = GraphQLWsServer.Bearer() });
        await slow.SubscribeAsync("s", WideEvents, new { traceId = Ids.Trace(traceId), after = cursor });
        await fast.SubscribeAsync("s", WideEvents, new { traceId = Ids.Trace(traceId), after = cursor });

        // bursts smaller than the send queue, each one committed after the reading client has the previous one
        var slowest = TimeSpan.Zero;
        long previous = 0;
        for (var batch = 0; batch < Batches; batch++)
        {
            var watch = Stopwatch.StartNew();
            await using (var connection = await server.Database.DataSource.OpenConnectionAsync())
                await connection.ExecAsync(
                    "SELECT set_workflow_context($1, 'slow-consumer-' || g || repeat('x', 150), '1') FROM generate_series($2, $3) g",
                    traceId, batch * BatchSize + 1, (batch + 1) * BatchSize);
            for (var i = 0; i < BatchSize; i++)
            {
                var id = (await fast.NextAsync("s")).GetProperty("data").GetProperty("workflowEvents").GetProperty("rowId").GetInt64();
                Assert.True(id > previous, $"event {id} after {previous}");
                previous = id;
            }
            slowest = watch.Elapsed > slowest ? watch.Elapsed : slowest;
        }
        Assert.True(slowest < TimeSpan.FromSeconds(8), $"the reading client waited up to {slowest.TotalMilliseconds:0} ms for a burst");

        // the slow client now reads what was in flight, then the server's close
        slow.StartReading();
        Assert.StartsWith("Slow consumer", await slow.ExpectCloseAsync(1013));
        var delivered = slow.TakeReceived("s");
        output.WriteLine(
            $"slowest burst {slowest.TotalMilliseconds:0} ms; the slow client got {delivered.Count} of {EventCount} events before the cut");
        // How many events reached the kernel's buffers before the cut depends on when the sender ran: none, on a
        // loaded machine. What holds is that the queue was not drained into the slow client, and what came is whole.
        Assert.InRange(delivered.Count, 0, EventCount - SlowConsumerServer.SendBuffer);
        Assert.All(delivered, message => Assert.Equal("next", GraphQLWsTestClient.Type(message)));
        Assert.False(fast.IsClosed);
    }

    /// <summary>Connections whose socket takes 4 kB at a time: the kernel does not grow a buffer set explicitly.</summary>
    internal static HttpMessageInvoker SmallReceiveBuffer() => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4 * 1024 };
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    });
}
