namespace WorkflowGraph.Tests.WebSockets;

/// <summary>A server of its own, since the test stops it.</summary>
public sealed class WebSocketShutdownTests
{
    [Fact]
    public async Task Stopping_the_host_closes_open_sockets_with_1001()
    {
        var server = new GraphQLWsServer();
        await server.InitializeAsync();
        var stopped = false;
        try
        {
            await using var client = await server.ConnectAsync();
            await client.SubscribeAsync("q", "{ traces { totalCount } }");
            await client.NextAsync("q");
            var stopping = server.DisposeAsync();
            stopped = true;
            Assert.Equal("Server shutting down", await client.ExpectCloseAsync(1001));
            await stopping;
        }
        finally
        {
            if (!stopped)
                await server.DisposeAsync();
        }
    }
}
