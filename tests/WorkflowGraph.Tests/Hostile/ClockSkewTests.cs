using System.Net;
using WorkflowGraph.Development;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Auth;
using WorkflowGraph.Tests.WebSockets;
using static WorkflowGraph.Tests.Api.GraphApiFixture;

namespace WorkflowGraph.Tests.Hostile;

/// <summary>One clock-skew rule (30 s by default) for both transports: a token HTTP accepts opens a WebSocket, and a
/// token HTTP refuses does not.</summary>
public sealed class ClockSkewTests(GraphQLWsServer server) : IClassFixture<GraphQLWsServer>
{
    private static string ExpiredAgo(int seconds) => DevelopmentTokens.Create(TestTokens.Key, OrgA, UserA, TenantRole.Viewer,
        TimeSpan.FromMinutes(5), issuedAt: DateTime.UtcNow.AddMinutes(-5).AddSeconds(-seconds));

    [Fact]
    public async Task A_token_expired_within_the_skew_is_accepted_by_both_transports()
    {
        var token = ExpiredAgo(10);
        Assert.Equal(HttpStatusCode.OK, await server.QueryStatusAsync(token));
        await using var client = await GraphQLWsTestClient.ConnectAsync(server.WebSocketUri);
        await client.InitAsync(new { Authorization = "Bearer " + token });
        await client.ExpectAckAsync();
    }

    [Fact]
    public async Task A_token_expired_beyond_the_skew_is_refused_by_both_transports()
    {
        var token = ExpiredAgo(40);
        Assert.Equal(HttpStatusCode.Unauthorized, await server.QueryStatusAsync(token));
        await using var client = await GraphQLWsTestClient.ConnectAsync(server.WebSocketUri);
        await client.InitAsync(new { Authorization = "Bearer " + token });
        await client.ExpectCloseAsync(4403);
    }
}
