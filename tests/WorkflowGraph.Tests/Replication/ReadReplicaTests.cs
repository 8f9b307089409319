using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using WorkflowGraph.Database;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Auth;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Tests.WebSockets;

namespace WorkflowGraph.Tests.Replication;

/// <summary>
/// Queries on a real streaming standby, mutations and asked-for reads on the primary, a lagging replica left for the
/// primary, and the event feed on the primary whatever the replica does.
/// </summary>
public sealed class ReadReplicaTests(StreamingReplica replica) : IClassFixture<StreamingReplica>
{
    private const string TraceById = "query ($id: ID!) { trace(id: $id) { rowId status } }";

    [Fact]
    public async Task Queries_read_the_replica_while_writes_and_asked_for_reads_go_to_the_primary_and_a_lagging_replica_is_left()
    {
        await using var patient = await App.StartAsync(replica, maxLagSeconds: 3600);
        await using var strict = await App.StartAsync(replica, maxLagSeconds: 0.5);
        await patient.WaitForLagAsync(lag => lag == 0);
        await strict.WaitForLagAsync(lag => lag == 0);
        try
        {
            await replica.PauseReplayAsync(true);
            var traceId = await patient.StartRunAsync();

            // the replica has not replayed the run: a query there does not find it, one asking for the primary does
            Assert.Equal(JsonValueKind.Null, (await patient.TraceAsync(traceId, primary: false)).ValueKind);
            Assert.Equal(traceId, (await patient.TraceAsync(traceId, primary: true)).GetProperty("rowId").GetInt64());

            // the lag shows, also to a scrape; past Database:MaxReplicaLagSeconds the queries go to the primary
            await patient.WaitForLagAsync(lag => lag > 0);
            Assert.Matches("(?m)^workflowgraph_replica_lag_seconds\\{[^}]*\\} [0-9]", await patient.ScrapeAsync());
            await strict.WaitForLagAsync(lag => lag > 0.5);
            Assert.Equal(traceId, (await strict.TraceAsync(traceId, primary: false)).GetProperty("rowId").GetInt64());
            Assert.Equal(JsonValueKind.Null, (await patient.TraceAsync(traceId, primary: false)).ValueKind);

            await replica.PauseReplayAsync(false);
            await patient.WaitForLagAsync(lag => lag == 0);
            Assert.Equal(traceId, (await patient.TraceAsync(traceId, primary: false)).GetProperty("rowId").GetInt64());
        }
        finally
        {
            await replica.PauseReplayAsync(false);
        }
    }

    [Fact]
    public async Task The_event_feed_reads_the_primary_while_the_replica_stands_still()
    {
        await using var app = await App.StartAsync(replica, maxLagSeconds: 3600);
        var traceId = await app.StartRunAsync();
        await using var client = await GraphQLWsTestClient.ConnectAndInitAsync(app.WebSocketUri, GraphQLWsServer.Bearer());
        await client.SubscribeAsync("events", "subscription ($traceId: ID!) { workflowEvents(traceId: $traceId) { eventType } }",
            new { traceId = Ids.Trace(traceId) });
        // the replica is known to be caught up before it stops (until its first measurement the reads go to the primary)
        await app.WaitForLagAsync(lag => lag == 0);
        try
        {
            await replica.PauseReplayAsync(true);
            // live only: the subscriber joins asynchronously, so write until an event arrives (a few tries at most)
            JsonElement? delivered = null;
            for (var attempt = 0; attempt < 5 && delivered is null; attempt++)
            {
                await app.SetContextAsync(traceId, $"key{attempt}");
                delivered = await client.NextOrNothingAsync("events", TimeSpan.FromSeconds(2));
            }

            Assert.NotNull(delivered);
            var eventType = delivered.Value.GetProperty("data").GetProperty("workflowEvents").GetProperty("eventType");
            Assert.Equal("context_set", eventType.GetString());
            // what the subscriber got is not on the replica yet (read there once its lag is measured as finite)
            await app.WaitForLagAsync(lag => lag > 0 && !double.IsInfinity(lag));
            Assert.Empty(await app.ContextKeysAsync(traceId, primary: false));
            Assert.NotEmpty(await app.ContextKeysAsync(traceId, primary: true));
        }
        finally
        {
            await replica.PauseReplayAsync(false);
        }
    }

    [Fact]
    public async Task A_read_on_the_replica_that_shows_phi_is_audited_on_the_primary()
    {
        await using var app = await App.StartAsync(replica, maxLagSeconds: 3600);
        await app.PostAsync("""
            mutation { setPhiClassificationRule(input: { target: CONTEXT_KEY, key: "memberId", sensitivity: PHI }) {
              phiClassificationRule { key } errors { __typename } } }
            """, new { }, primary: true, GraphQLWsServer.Bearer());
        var traceId = await app.StartRunAsync();
        await app.SetContextAsync(traceId, "memberId");
        await app.WaitForLagAsync(lag => lag == 0);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!(await app.ContextKeysAsync(traceId, primary: false)).Contains("memberId"))
        {
            Assert.True(DateTime.UtcNow < deadline, "the standby did not replay the context");
            await Task.Delay(50);
        }
        try
        {
            await replica.PauseReplayAsync(true);
            await app.SetContextAsync(traceId, "writtenAfterThePause");

            var reader = TestTokens.BearerWithScope(GraphApiFixture.OrgA, GraphApiFixture.UserOf(GraphApiFixture.OrgA), TenantRole.Viewer,
                "phi:read");
            var context = (await app.PostAsync("query ($id: ID!) { workflowContext(traceId: $id) { key value } }",
                new { id = Ids.Trace(traceId) }, primary: false, reader)).GetProperty("data").GetProperty("workflowContext");

            // read on the standby (it has not replayed the later key), shown unmasked, and recorded on the primary
            var entry = Assert.Single(context.EnumerateArray());
            Assert.Equal("memberId", entry.GetProperty("key").GetString());
            Assert.Equal(1, entry.GetProperty("value").GetInt32());
            await using var primary = new NpgsqlConnection(replica.PrimaryConnectionString);
            await primary.OpenAsync();
            Assert.Equal(1L, await primary.ScalarAsync<long>(
                "SELECT count(*) FROM phi_access_audit " +
                "WHERE trace_ids @> ARRAY[$1::bigint] AND 'WorkflowContextEntry.value' = ANY (fields)",
                traceId));
        }
        finally
        {
            await replica.PauseReplayAsync(false);
        }
    }

    /// <summary>The service on a loopback port over the pair: the primary, and the standby as its read replica.</summary>
    private sealed class App : IAsyncDisposable
    {
        private readonly WebApplicationFactory<Program> _factory;
        private readonly HttpClient _http = new();

        private App(WebApplicationFactory<Program> factory, string baseUrl) => (_factory, BaseUrl) = (factory, baseUrl);

        public string BaseUrl { get; }

        public Uri WebSocketUri => new(BaseUrl.Replace("http://", "ws://") + "/graphql");

        public static Task<App> StartAsync(StreamingReplica pair, double maxLagSeconds)
        {
            var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host
                .UseSetting("ConnectionStrings:WorkflowGraph", pair.PrimaryConnectionString)
                .UseSetting("ConnectionStrings:WorkflowGraphReadReplica", pair.StandbyConnectionString)
                .UseSetting("Database:MaxReplicaLagSeconds", maxLagSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .UseSetting("Database:ReplicaLagCheckSeconds", "0.1")
                .UseTestSigningKey());
            factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
            factory.StartServer();
            return Task.FromResult(new App(factory, ListeningAddress.Of(factory.Services)));
        }

        public async Task WaitForLagAsync(Func<double, bool> condition)
        {
            var replica = _factory.Services.GetRequiredService<ReadReplica>();
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (!condition(replica.LagSeconds))
            {
                Assert.True(DateTime.UtcNow < deadline, $"replica lag stayed at {replica.LagSeconds} s");
                await Task.Delay(50);
            }
        }

        public Task<string> ScrapeAsync() => _http.GetStringAsync(BaseUrl + "/metrics");

        public async Task<long> StartRunAsync()
        {
            var body = await PostAsync("""
                mutation ($workflowId: ID!) {
                  startWorkflowExecution(input: { workflowId: $workflowId, channel: WEB }) { trace { rowId } errors { __typename } }
                }
                """, new { workflowId = Ids.Workflow(GraphQLWsServer.WorkflowOf(GraphApiFixture.OrgA).WorkflowId) }, primary: false);
            return body.GetProperty("data").GetProperty("startWorkflowExecution").GetProperty("trace").GetProperty("rowId").GetInt64();
        }

        public Task SetContextAsync(long traceId, string key) => PostAsync("""
            mutation ($traceId: ID!, $key: String!) {
              setWorkflowContext(input: { traceId: $traceId, key: $key, value: 1 }) { entry { key } errors { __typename } }
            }
            """, new { traceId = Ids.Trace(traceId), key }, primary: false);

        public async Task<string[]> ContextKeysAsync(long traceId, bool primary) =>
            (await PostAsync("query ($id: ID!) { workflowContext(traceId: $id) { key } }", new { id = Ids.Trace(traceId) }, primary))
            .GetProperty("data").GetProperty("workflowContext").EnumerateArray().Select(e => e.GetProperty("key").GetString()!).ToArray();

        public async Task<JsonElement> TraceAsync(long traceId, bool primary) =>
            (await PostAsync(TraceById, new { id = Ids.Trace(traceId) }, primary)).GetProperty("data").GetProperty("trace");

        private Task<JsonElement> PostAsync(string query, object variables, bool primary) =>
            PostAsync(query, variables, primary, GraphQLWsServer.Bearer(role: TenantRole.Operator));

        public async Task<JsonElement> PostAsync(string query, object variables, bool primary, string authorization)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, BaseUrl + "/graphql")
            {
                Content = JsonContent.Create(new { query, variables }),
            };
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
            if (primary)
                request.Headers.TryAddWithoutValidation(RequestDatabase.ReadFromHeader, "primary");
            using var response = await _http.SendAsync(request);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(response.StatusCode == HttpStatusCode.OK && !body.TryGetProperty("errors", out _), body.ToString());
            return body;
        }

        public async ValueTask DisposeAsync()
        {
            _http.Dispose();
            await _factory.DisposeAsync();
        }
    }
}
