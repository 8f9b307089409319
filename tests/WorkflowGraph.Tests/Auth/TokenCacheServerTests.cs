using System.Net;
using Microsoft.Extensions.DependencyInjection;
using WorkflowGraph.Auth;
using WorkflowGraph.Development;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.WebSockets;
using static WorkflowGraph.Tests.Api.GraphApiFixture;

namespace WorkflowGraph.Tests.Auth;

/// <summary>A server that allows no clock skew, so a token's expiry is exact.</summary>
public sealed class NoSkewServer : GraphQLWsServer
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Auth:ClockSkewSeconds"] = "0",
    };
}

/// <summary>A token the service has validated is remembered, and a remembered token is still refused once it expires,
/// over HTTP and over a WebSocket's connection_init.</summary>
public sealed class TokenCacheServerTests(NoSkewServer server) : IClassFixture<NoSkewServer>
{
    [Fact]
    public async Task A_remembered_token_is_refused_by_both_transports_once_it_has_expired()
    {
        var cache = server.Services.GetRequiredService<ValidatedTokenCache>();
        var issued = DateTime.UtcNow;
        var token = DevelopmentTokens.Create(TestTokens.Key, OrgA, UserA, TenantRole.Viewer, TimeSpan.FromSeconds(3), issuedAt: issued);
        Assert.False(cache.TryGet(token, out _));
        Assert.Equal(HttpStatusCode.OK, await server.QueryStatusAsync(token));
        Assert.True(cache.TryGet(token, out var remembered));
        Assert.Equal(OrgA, remembered.Tenant!.OrgId);

        // exp has whole seconds: wait until it is surely past
        var expiry = issued.AddSeconds(4);
        while (DateTime.UtcNow < expiry)
            await Task.Delay(expiry - DateTime.UtcNow);
        Assert.Equal(HttpStatusCode.Unauthorized, await server.QueryStatusAsync(token));
        Assert.False(cache.TryGet(token, out _));
        await using var client = await GraphQLWsTestClient.ConnectAsync(server.WebSocketUri);
        await client.InitAsync(new { Authorization = "Bearer " + token });
        await client.ExpectCloseAsync(4403);
    }

    [Fact]
    public async Task A_refused_token_is_not_remembered()
    {
        var cache = server.Services.GetRequiredService<ValidatedTokenCache>();
        var otherKey = TokenSettings.KeyFrom(new string('k', 64));
        var forged = DevelopmentTokens.Create(otherKey, OrgA, UserA, TenantRole.Admin, TimeSpan.FromMinutes(5));
        Assert.Equal(HttpStatusCode.Unauthorized, await server.QueryStatusAsync(forged));
        Assert.False(cache.TryGet(forged, out _));
    }
}
