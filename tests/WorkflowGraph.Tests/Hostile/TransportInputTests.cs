using System.Net;
using System.Net.Http.Headers;
using System.Text;
using WorkflowGraph.Tests.Auth;
using WorkflowGraph.Tests.Http;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Tests.WebSockets;

namespace WorkflowGraph.Tests.Hostile;

/// <summary>What the WebSocket transport does with bad bytes and a costly subscription, and what a request gets while
/// the database cannot be reached at all.</summary>
public sealed class TransportInputTests(GraphQLWsServer server) : IClassFixture<GraphQLWsServer>
{
    [Fact]
    public async Task A_websocket_message_that_is_not_utf8_ends_the_connection_and_nothing_else()
    {
        await using var client = await server.ConnectAsync();
        var bytes = Encoding.UTF8.GetBytes("{\"type\":\"ping\",\"payload\":{\"x\":\"").Concat(new byte[] { 0xC3, 0x28 })
            .Concat(Encoding.UTF8.GetBytes("\"}}")).ToArray();
        await client.SendBytesAsync(bytes);
        // the WebSocket layer refuses the frame (invalid frame payload data) before the protocol sees it and closes with
        // 1007; the close handshake waits for the client's answer, but under load the socket may be dropped first
        var status = await client.ClosedAsync();
        Assert.True(status is null || (int)status == 1007, $"closed with {status}");
        await using var next = await server.ConnectAsync();
        Assert.False(next.IsClosed);
    }

    [Fact]
    public async Task A_subscription_whose_selection_costs_too_much_per_event_is_refused()
    {
        await using var client = await server.ConnectAsync();
        await client.SubscribeAsync("costly",
            "subscription { workflowEvents { id trace { steps(first: 100) { events(first: 100) { id } } } } }");
        var errors = await client.ErrorAsync("costly");
        Assert.Contains("MAX_COMPLEXITY_EXCEEDED", GraphQLErrors.Codes(errors));
        await client.SubscribeAsync("cheap", "subscription { workflowEvents { id eventType trace { status } } }");
        await client.NothingForAsync("cheap", TimeSpan.FromMilliseconds(300));
        Assert.False(client.IsClosed);
    }

    [Fact]
    public async Task A_database_that_cannot_be_reached_is_DATABASE_UNAVAILABLE_with_503()
    {
        await using var factory = new UnreachableDatabase().App(host => host.UseTestSigningKey());
        using var client = factory.CreateClient();
        using var request = Requests.PostQuery("{ traces(first: 1) { totalCount } }");
        request.Headers.Authorization = AuthenticationHeaderValue.Parse(GraphQLWsServer.Bearer());
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("DATABASE_UNAVAILABLE", await response.ErrorCodeAsync());

        using var legacy = Requests.PostQuery("{ traces(first: 1) { totalCount } }", Requests.Json);
        legacy.Headers.Authorization = AuthenticationHeaderValue.Parse(GraphQLWsServer.Bearer());
        using var legacyResponse = await client.SendAsync(legacy);
        Assert.Equal(HttpStatusCode.OK, legacyResponse.StatusCode);
        Assert.Equal("DATABASE_UNAVAILABLE", await legacyResponse.ErrorCodeAsync());
    }
}
