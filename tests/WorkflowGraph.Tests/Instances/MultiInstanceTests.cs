using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Tests.WebSockets;

namespace WorkflowGraph.Tests.Instances;

/// <summary>
/// Three service processes on one database: a subscriber on each, writers through any of them, and one instance
/// restarted (SIGTERM, then started again) while events flow. Its subscriber is closed with 1001, resumes from its last
/// cursor on another instance, and every subscriber ends with exactly the events of its run, in order, once each.
/// </summary>
public sealed class MultiInstanceTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private const int EventsPerRun = 24;
    private const int RestartAfter = 8;

    private const string Events = """
        subscription ($traceId: ID!, $after: String) { workflowEvents(traceId: $traceId, after: $after) { rowId cursor } }
        """;

    [Fact]
    public async Task A_restart_of_one_of_three_instances_mid_stream_loses_nothing_for_its_clients()
    {
        await using (var connection = await db.DataSource.OpenConnectionAsync())
            await connection.ExecAsync(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Api", "graph-data.sql")));
        var started = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ServiceInstance.StartAsync(db.OwnerConnectionString)));
        var instances = started.ToArray();
        try
        {
            using var http = new HttpClient();
            // a run per instance, each started through another instance than the one its subscriber uses
            var runs = new List<(long TraceId, string Cursor)>();
            for (var i = 0; i < instances.Length; i++)
                runs.Add(await StartRunAsync(http, instances[(i + 1) % instances.Length]));
            var followers = runs.Select((run, home) => new Follower(instances, home, run.TraceId, run.Cursor)).ToArray();
            var following = followers.Select(f => f.FollowAsync(EventsPerRun)).ToArray();

            Task? restart = null;
            for (var e = 0; e < EventsPerRun; e++)
            {
                if (e == RestartAfter)
                    restart = RestartAsync(instances[1]);
                for (var r = 0; r < runs.Count; r++)
                    await WriteAnywhereAsync(http, instances, e + r, runs[r].TraceId, $"k{e}");
                await Task.Delay(25);
            }
            await restart!;
            var received = await Task.WhenAll(following);

            for (var r = 0; r < runs.Count; r++)
                Assert.Equal(await EventIdsAfterFirstAsync(runs[r].TraceId), received[r]);
            // the restarted instance's subscriber was cut off mid-stream and resumed elsewhere
            Assert.True(followers[1].Resumptions >= 1, "the restarted instance's subscriber never had to resume");
            Assert.True(followers[1].ReceivedBeforeFirstResumption is > 0 and < EventsPerRun,
                $"received {followers[1].ReceivedBeforeFirstResumption} before resuming");
        }
        finally
        {
            foreach (var instance in instances)
                await instance.DisposeAsync();
        }
    }

    private static async Task RestartAsync(ServiceInstance instance)
    {
        await instance.StopAsync();
        await instance.StartAsync();
    }

    private async Task<List<long>> EventIdsAfterFirstAsync(long traceId)
    {
        await using var read = db.DataSource.CreateCommand("SELECT id FROM workflow_events WHERE trace_id = $1 ORDER BY id OFFSET 1");
        read.Parameters.Add(new NpgsqlParameter { Value = traceId });
        var ids = new List<long>();
        await using var reader = await read.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            ids.Add(reader.GetInt64(0));
        return ids;
    }

    private static async Task<(long TraceId, string Cursor)> StartRunAsync(HttpClient http, ServiceInstance instance)
    {
        var started = await PostAsync(http, instance, """
            mutation ($workflowId: ID!) {
              startWorkflowExecution(input: { workflowId: $workflowId, channel: WEB }) { trace { rowId } errors { __typename } }
            }
            """, new { workflowId = Ids.Workflow(GraphQLWsServer.WorkflowOf(GraphApiFixture.OrgA).WorkflowId) });
        var traceId = started.GetProperty("data").GetProperty("startWorkflowExecution").GetProperty("trace").GetProperty("rowId")
            .GetInt64();
        var events = await PostAsync(http, instance, "query ($id: ID!) { trace(id: $id) { events(first: 1) { cursor } } }",
            new { id = Ids.Trace(traceId) });
        return (traceId, events.GetProperty("data").GetProperty("trace").GetProperty("events")[0].GetProperty("cursor").GetString()!);
    }

    /// <summary>Writes through instance <paramref name="turn"/> mod 3, or the next one that answers.</summary>
    private static async Task WriteAnywhereAsync(HttpClient http, ServiceInstance[] instances, int turn, long traceId, string key)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var body = await PostAsync(http, instances[(turn + attempt) % instances.Length], """
                    mutation ($traceId: ID!, $key: String!) {
                      setWorkflowContext(input: { traceId: $traceId, key: $key, value: 1 }) { entry { key } errors { __typename } }
                    }
                    """, new { traceId = Ids.Trace(traceId), key });
                Assert.Equal(key, body.GetProperty("data").GetProperty("setWorkflowContext").GetProperty("entry").GetProperty("key")
                    .GetString());
                return;
            }
            catch (HttpRequestException) when (attempt < instances.Length)
            {
                // that instance is restarting: another one takes the write
            }
        }
    }

    private static async Task<JsonElement> PostAsync(HttpClient http, ServiceInstance instance, string query, object variables)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, instance.BaseUrl + "/graphql")
        {
            Content = JsonContent.Create(new { query, variables }),
        };
        request.Headers.TryAddWithoutValidation("Authorization", GraphQLWsServer.Bearer(role: TenantRole.Operator));
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>
    /// A client following one run from its first event's cursor on its home instance; when the socket closes it
    /// resubscribes with the last cursor it received on the next instance that accepts it.
    /// </summary>
    private sealed class Follower(ServiceInstance[] instances, int home, long traceId, string cursor)
    {
        public int Resumptions { get; private set; }
        public int? ReceivedBeforeFirstResumption { get; private set; }

        public async Task<List<long>> FollowAsync(int expected)
        {
            var ids = new List<long>();
            var (at, after) = (home, cursor);
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (ids.Count < expected)
            {
                Assert.True(DateTime.UtcNow < deadline, $"run {traceId}: {ids.Count} of {expected} events arrived");
                GraphQLWsTestClient client;
                try
                {
                    client = await GraphQLWsTestClient.ConnectAndInitAsync(instances[at].WebSocketUri, GraphQLWsServer.Bearer());
                }
                catch (Exception error) when (error is System.Net.WebSockets.WebSocketException or Xunit.Sdk.XunitException)
                {
                    at = (at + 1) % instances.Length;
                    continue;
                }
                await using (client)
                {
                    await client.SubscribeAsync("s", Events, new { traceId = Ids.Trace(traceId), after });
                    while (ids.Count < expected)
                    {
                        if (await client.NextOrNothingAsync("s", TimeSpan.FromSeconds(1)) is not { } payload)
                        {
                            if (client.IsClosed)
                                break;
                            continue;
                        }
                        var delivered = payload.GetProperty("data").GetProperty("workflowEvents");
                        ids.Add(delivered.GetProperty("rowId").GetInt64());
                        after = delivered.GetProperty("cursor").GetString()!;
                    }
                }
                if (ids.Count < expected)
                {
                    ReceivedBeforeFirstResumption ??= ids.Count;
                    Resumptions++;
                    at = (at + 1) % instances.Length;
                }
            }
            return ids;
        }
    }
}
