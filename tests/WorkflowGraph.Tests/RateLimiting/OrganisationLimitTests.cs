using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Auth;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Tests.WebSockets;

namespace WorkflowGraph.Tests.RateLimiting;

/// <summary>Small limits, so that a test reaches them in a few requests.</summary>
public sealed class LimitedServer : GraphQLWsServer
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["RateLimits:RequestsPerSecond"] = "5",
        ["RateLimits:Burst"] = "20",
        ["RateLimits:ConcurrentRequests"] = "2",
        ["RateLimits:SubscriptionsPerOrganisation"] = "2",
        ["RateLimits:Roles:viewer:RequestsPerSecond"] = "2",
    };
}

/// <summary>
/// Per-organisation limits: one organisation over its rate, its concurrency, its role's rate or its subscriptions is
/// refused (429 with Retry-After and RATE_LIMITED over HTTP, an error over the WebSocket) while another is served. The
/// limiter lives as long as the server, so each test floods an organisation of its own.
/// </summary>
public sealed class OrganisationLimitTests(LimitedServer server) : IClassFixture<LimitedServer>
{
    private const string Query = "{ traces(first: 1) { totalCount } }";

    [Fact]
    public async Task A_flooding_organisation_is_limited_while_another_is_served()
    {
        var (flooding, quiet) = (Guid.NewGuid(), Guid.NewGuid());
        using var http = new HttpClient();

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => SendAsync(http, flooding, TenantRole.Admin)));
        var elapsed = clock.Elapsed;
        var served = await SendAsync(http, quiet, TenantRole.Admin);

        var refused = answers.Where(a => a.Status == HttpStatusCode.TooManyRequests).ToArray();
        // a burst of 20, then 5 a second (added whole, once a second): no more can have been served in the time it took
        Assert.InRange(answers.Count(a => a.Status == HttpStatusCode.OK), 1, 20 + 5 * ((int)elapsed.TotalSeconds + 1));
        Assert.NotEmpty(refused);
        Assert.All(refused, a =>
        {
            Assert.True(a.RetryAfter is >= 1, $"Retry-After {a.RetryAfter}");
            Assert.Equal(["RATE_LIMITED"], GraphQLErrors.Codes(a.Body));
            Assert.False(a.Body.TryGetProperty("data", out _));
        });
        Assert.Contains(refused, a => a.Body.GetProperty("errors")[0].GetProperty("message").GetString()!.Contains("per second"));
        Assert.Equal(HttpStatusCode.OK, served.Status);
        Assert.Equal(0, served.Body.GetProperty("data").GetProperty("traces").GetProperty("totalCount").GetInt32());
        // and the refusals are counted by limit for alerting
        var scrape = await http.GetStringAsync(server.BaseUrl + "/metrics");
        Assert.Matches("(?m)^workflowgraph_rate_limit_rejections_total\\{[^}]*limit=\"organisation_rate\"[^}]*\\} [1-9]", scrape);
    }

    [Fact]
    public async Task A_roles_own_rate_limits_its_members_and_not_the_other_roles_of_the_organisation()
    {
        var org = Guid.NewGuid();
        using var http = new HttpClient();

        var viewers = new List<Answer>();
        for (var i = 0; i < 4; i++)
            viewers.Add(await SendAsync(http, org, TenantRole.Viewer));
        var admin = await SendAsync(http, org, TenantRole.Admin);

        Assert.Equal(HttpStatusCode.TooManyRequests, viewers[^1].Status);
        Assert.Contains("viewers", viewers[^1].Body.GetProperty("errors")[0].GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.OK, admin.Status);
    }

    [Fact]
    public async Task Requests_beyond_the_organisations_concurrency_are_refused_until_one_finishes()
    {
        var (traceId, _) = await server.StartRunAsync(GraphApiFixture.OrgB);
        using var http = new HttpClient();
        await using var locker = await server.Database.DataSource.OpenConnectionAsync();
        await using var hold = await locker.BeginTransactionAsync();
        await using var lockRun = new NpgsqlCommand("SELECT 1 FROM workflow_trace WHERE id = $1 FOR UPDATE", locker, hold);
        lockRun.Parameters.Add(new NpgsqlParameter { Value = traceId });
        await lockRun.ExecuteNonQueryAsync();

        // two requests of org B wait for the run's row: the organisation's two places are taken
        var complete = """
            mutation ($traceId: ID!) {
              completeWorkflowExecution(input: { traceId: $traceId, status: COMPLETED }) { trace { status } errors { __typename } }
            }
            """;
        var waiting = new[]
        {
            SendAsync(http, GraphApiFixture.OrgB, TenantRole.Operator, complete, new { traceId = Ids.Trace(traceId) }),
            SendAsync(http, GraphApiFixture.OrgB, TenantRole.Operator, complete, new { traceId = Ids.Trace(traceId) }),
        };
        await WaitForLockWaitersAsync(2);
        var third = await SendAsync(http, GraphApiFixture.OrgB, TenantRole.Admin);
        var otherOrganisation = await SendAsync(http, GraphApiFixture.OrgA, TenantRole.Admin);
        await hold.CommitAsync();
        var finished = await Task.WhenAll(waiting);
        var afterwards = await SendAsync(http, GraphApiFixture.OrgB, TenantRole.Admin);

        Assert.Equal(HttpStatusCode.TooManyRequests, third.Status);
        Assert.Contains("at once", third.Body.GetProperty("errors")[0].GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.OK, otherOrganisation.Status);
        Assert.All(finished, f => Assert.Equal(HttpStatusCode.OK, f.Status));
        Assert.Equal(HttpStatusCode.OK, afterwards.Status);
    }

    [Fact]
    public async Task An_organisation_at_its_subscription_limit_gets_RATE_LIMITED_for_one_more_while_another_subscribes()
    {
        var (full, other) = (Guid.NewGuid(), Guid.NewGuid());
        await using var client = await GraphQLWsTestClient.ConnectAndInitAsync(server.WebSocketUri,
            TestTokens.Bearer(full, Guid.NewGuid()));
        const string Live = "subscription { workflowEvents { id } }";
        await client.SubscribeAsync("one", Live);
        await client.SubscribeAsync("two", Live);
        await client.NothingForAsync("two", TimeSpan.FromMilliseconds(300));

        await client.SubscribeAsync("three", Live);
        var refused = await client.NextAsync("three");
        await client.CompletedAsync("three");
        await using var elsewhere = await GraphQLWsTestClient.ConnectAndInitAsync(server.WebSocketUri,
            TestTokens.Bearer(other, Guid.NewGuid()));
        await elsewhere.SubscribeAsync("one", Live);

        Assert.Equal(["RATE_LIMITED"], GraphQLErrors.Codes(refused));
        await elsewhere.NothingForAsync("one", TimeSpan.FromMilliseconds(300));
        // a place freed is a place to take
        await client.CompleteAsync("one");
        await Task.Delay(100);
        await client.SubscribeAsync("four", Live);
        await client.NothingForAsync("four", TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task Operations_over_the_WebSocket_share_the_organisations_rate()
    {
        var org = Guid.NewGuid();
        await using var client = await GraphQLWsTestClient.ConnectAndInitAsync(server.WebSocketUri,
            TestTokens.Bearer(org, Guid.NewGuid(), TenantRole.Viewer));

        // the viewers' rate is two a second: of four queries sent at once, the later ones are refused
        for (var i = 0; i < 4; i++)
            await client.SubscribeAsync($"q{i}", Query);
        var last = await client.ErrorAsync("q3");

        Assert.Equal("RATE_LIMITED", last[0].GetProperty("extensions").GetProperty("code").GetString());
        Assert.True(last[0].GetProperty("extensions").GetProperty("retryAfterSeconds").GetInt32() >= 1);
        await client.NextAsync("q0");
    }

    [Theory]
    [InlineData("RateLimits:Roles:guest:RequestsPerSecond", "5", "unknown role(s) guest")]
    [InlineData("RateLimits:ConcurrentRequests", "-1", "at least 0")]
    public void A_service_with_a_limit_it_cannot_apply_does_not_start(string key, string value, string expected)
    {
        using var factory = new UnreachableDatabase().App(host => host.UseSetting(key, value).UseTestSigningKey());

        var error = Assert.Throws<InvalidOperationException>(() => factory.CreateClient());
        Assert.Contains(expected, error.Message);
    }

    private sealed record Answer(HttpStatusCode Status, int? RetryAfter, JsonElement Body);

    private async Task<Answer> SendAsync(HttpClient http, Guid org, TenantRole role, string query = Query, object? variables = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, server.BaseUrl + "/graphql")
        {
            Content = JsonContent.Create(new { query, variables }),
        };
        request.Headers.TryAddWithoutValidation("Authorization", TestTokens.Bearer(org, GraphApiFixture.UserOf(org), role));
        using var response = await http.SendAsync(request);
        var retryAfter = response.Headers.RetryAfter?.Delta is { } delta ? (int?)delta.TotalSeconds : null;
        return new Answer(response.StatusCode, retryAfter, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    private async Task WaitForLockWaitersAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            await using var waiting = server.Database.DataSource.CreateCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
            if ((long)(await waiting.ExecuteScalarAsync())! >= count)
                return;
            Assert.True(DateTime.UtcNow < deadline, $"fewer than {count} requests waited for the lock");
            await Task.Delay(20);
        }
    }
}
