using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Tests.WebSockets;

namespace WorkflowGraph.Tests.Health;

/// <summary>A server with a five-second drain window (long enough for the probes inside it on a loaded machine).</summary>
public sealed class DrainingServer : GraphQLWsServer
{
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(5);

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Lifecycle:DrainSeconds"] = Window.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>
/// A stop in order: not ready but serving during the drain window, WebSockets closed with 1001 when it ends, then no
/// new connections while the HTTP request in flight finishes. A server of its own, since the test stops it.
/// </summary>
public sealed class GracefulShutdownTests
{
    [Fact]
    public async Task Stopping_drains_then_closes_sockets_with_1001_then_refuses_connections_while_requests_in_flight_finish()
    {
        var server = new DrainingServer();
        await server.InitializeAsync();
        Task? stopping = null;
        try
        {
            var (traceId, cursor) = await server.StartRunAsync();
            await using var subscriber = await server.ConnectAsync();
            await subscriber.SubscribeAsync("events", "subscription ($traceId: ID!, $after: String) " +
                "{ workflowEvents(traceId: $traceId, after: $after) { eventType } }", new { traceId = Ids.Trace(traceId), after = cursor });
            await server.SetContextAsync(traceId, "payer");
            await subscriber.NextAsync("events");

            // a mutation in flight: it waits for the run's row, which the test holds locked
            await using var locker = await server.Database.DataSource.OpenConnectionAsync();
            await using var hold = await locker.BeginTransactionAsync();
            await using var lockRun = new NpgsqlCommand("SELECT 1 FROM workflow_trace WHERE id = $1 FOR UPDATE", locker, hold);
            lockRun.Parameters.Add(new NpgsqlParameter { Value = traceId });
            await lockRun.ExecuteNonQueryAsync();
            using var writer = new HttpClient();
            var inFlight = PostAsync(writer, server, """
                mutation ($traceId: ID!) {
                  completeWorkflowExecution(input: { traceId: $traceId, status: COMPLETED }) { trace { status } errors { __typename } }
                }
                """, new { traceId = Ids.Trace(traceId) });
            await WaitUntilBlockedAsync(server);

            var clock = Stopwatch.StartNew();
            stopping = server.DisposeAsync();

            // the window: not ready, still serving (a new connection gets its query answered)
            using (var prober = new HttpClient())
            {
                var ready = await prober.GetAsync(server.BaseUrl + "/healthz/ready");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
                var lifecycle = (await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checks").GetProperty("lifecycle");
                Assert.Equal("draining", lifecycle.GetString());
                var query = await PostAsync(prober, server, "{ traces(first: 1) { totalCount } }", null);
                Assert.Equal(HttpStatusCode.OK, query.Status);
            }
            Assert.False(subscriber.IsClosed);

            // the window ends: sockets close with 1001, so clients resume elsewhere from their cursors
            Assert.Equal("Server shutting down", await subscriber.ExpectCloseAsync(1001, TimeSpan.FromSeconds(10)));
            Assert.True(clock.Elapsed >= DrainingServer.Window - TimeSpan.FromMilliseconds(100), $"closed after {clock.Elapsed}");

            // then no new connections, while the request in flight is still waiting
            await WaitUntilRefusedAsync(server.BaseUrl);
            Assert.False(inFlight.IsCompleted);
            await hold.CommitAsync();
            var (status, body) = await inFlight;
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("COMPLETED", body.GetProperty("data").GetProperty("completeWorkflowExecution").GetProperty("trace")
                .GetProperty("status").GetString());
        }
        finally
        {
            await (stopping ?? server.DisposeAsync());
        }
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient client, GraphQLWsServer server, string query,
        object? variables)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, server.BaseUrl + "/graphql")
        {
            Content = JsonContent.Create(new { query, variables }),
        };
        request.Headers.TryAddWithoutValidation("Authorization", GraphQLWsServer.Bearer(role: TenantRole.Operator));
        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    private static async Task WaitUntilBlockedAsync(GraphQLWsServer server)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            await using var waiting = server.Database.DataSource.CreateCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
            if ((long)(await waiting.ExecuteScalarAsync())! > 0)
                return;
            Assert.True(DateTime.UtcNow < deadline, "the mutation never waited for the lock");
            await Task.Delay(20);
        }
    }

    private static async Task WaitUntilRefusedAsync(string baseUrl)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            using var fresh = new HttpClient();
            try
            {
                await fresh.GetAsync(baseUrl + "/healthz/live");
            }
            catch (HttpRequestException)
            {
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, "the server still accepted connections");
            await Task.Delay(50);
        }
    }
}
