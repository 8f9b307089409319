using System.Text.Json;
using WorkflowGraph.Database;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Tests.WebSockets;

namespace WorkflowGraph.Tests.Pooling;

/// <summary>
/// The service behind a real PgBouncer in transaction pooling mode: requests through it (unprepared), the LISTEN
/// connection and migrations straight to PostgreSQL.
/// </summary>
public sealed class BouncedServer : GraphQLWsServer
{
    private PgBouncerProcess? _bouncer;

    protected override async Task BeforeStartAsync() => _bouncer = await PgBouncerProcess.StartAsync(Database.OwnerConnectionString);

    // read once, when the service starts (after BeforeStartAsync)
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        [$"ConnectionStrings:{DatabaseConnections.AppKey}"] =
            _bouncer!.ConnectionString(Database.DatabaseName, Development.EmbeddedPostgres.OwnerName),
        [$"ConnectionStrings:{DatabaseConnections.OwnerKey}"] = Database.OwnerConnectionString,
        [$"ConnectionStrings:{DatabaseConnections.ListenerKey}"] = Database.OwnerConnectionString,
    };

    /// <summary>Stops PgBouncer (once): the service's requests have no other way to the database.</summary>
    public async Task StopBouncerAsync()
    {
        if (Interlocked.Exchange(ref _bouncer, null) is { } bouncer)
            await bouncer.DisposeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await StopBouncerAsync();
    }
}

public sealed class PgBouncerTests(BouncedServer server) : IClassFixture<BouncedServer>
{
    [Fact]
    public async Task Queries_mutations_and_subscriptions_work_through_PgBouncer_in_transaction_mode()
    {
        // writes (a savepoint per mutation inside the request's transaction) and a replay then a live event
        var (traceId, cursor) = await server.StartRunAsync();
        await using var client = await server.ConnectAsync();
        await client.SubscribeAsync("events", "subscription ($traceId: ID!, $after: String) " +
            "{ workflowEvents(traceId: $traceId, after: $after) { eventType } }", new { traceId = Ids.Trace(traceId), after = cursor });
        await server.StartStepAsync(traceId, 1);
        await server.SetContextAsync(traceId, "payer");
        Assert.Equal("step_started", EventType(await client.NextAsync("events")));
        Assert.Equal("context_set", EventType(await client.NextAsync("events")));

        // more requests at once than PgBouncer has server connections: each transaction takes one in turn, and the
        // tenant settings (transaction-local) never leak from one request to another
        var answers = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => server.PostAsync(
            "query ($id: ID!) { trace(id: $id) { rowId steps { stepNumber } } }", new { id = Ids.Trace(traceId) },
            org: i % 2 == 0 ? Api.GraphApiFixture.OrgA : Api.GraphApiFixture.OrgB)));
        for (var i = 0; i < answers.Length; i++)
        {
            var trace = answers[i].GetProperty("data").GetProperty("trace");
            if (i % 2 == 0)
                Assert.Equal(traceId, trace.GetProperty("rowId").GetInt64());
            else
                Assert.Equal(JsonValueKind.Null, trace.ValueKind);
        }

        // and it was PgBouncer that carried them: without it, requests get no database
        await server.StopBouncerAsync();
        var refused = await server.PostAsync("{ traces(first: 1) { totalCount } }");
        Assert.Equal(["DATABASE_ERROR"], Infrastructure.GraphQLErrors.Codes(refused));
    }

    private static string? EventType(JsonElement payload) =>
        payload.GetProperty("data").GetProperty("workflowEvents").GetProperty("eventType").GetString();
}
