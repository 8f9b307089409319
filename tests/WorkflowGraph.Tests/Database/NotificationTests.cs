using System.Collections.Concurrent;
using System.Text.Json;
using Npgsql;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

/// <summary>
/// LISTEN/NOTIFY on channel <c>workflow_events</c> (011_event_notifications.sql). Notifications are delivered at
/// commit, so these tests commit (into this class's own database). "Nothing else was delivered" is proven without
/// sleeping: after the action a marker event is committed, and notifications arrive in commit order, so everything
/// the action announced has arrived once the marker has.
/// </summary>
public sealed class NotificationTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private static readonly Guid OrgA = Guid.Parse("a0000000-0000-4000-8000-000000000001");
    private static readonly Guid UserA = Guid.Parse("a0000000-0000-4000-8000-0000000000a1");
    private static readonly Guid Workflow = Guid.Parse("a0000000-0000-4000-8000-00000000f001");
    private const long MarkerTrace = 900_000_001;  // explicit id far beyond what the identity hands out here
    private const int NodeId = 1;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private async Task EnsureOrganisationAsync()
    {
        await using var owner = await db.OpenAsOwnerAsync();
        if (await owner.Connection.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM organizations WHERE id = $1)", OrgA))
            return;
        await owner.Connection.ExecAsync("""
            INSERT INTO organizations (id, name) VALUES ('a0000000-0000-4000-8000-000000000001', 'Org A');
            INSERT INTO users (id, org_id, email)
            VALUES ('a0000000-0000-4000-8000-0000000000a1', 'a0000000-0000-4000-8000-000000000001', 'ops@a.example');
            INSERT INTO workflows (id, org_id, name)
            VALUES ('a0000000-0000-4000-8000-00000000f001', 'a0000000-0000-4000-8000-000000000001', 'Eligibility Check');
            INSERT INTO workflow_nodes (id, org_id, workflow_id, name, node_type)
            VALUES (1, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001', 'fetch', 'action');
            -- the run that carries the marker events
            INSERT INTO workflow_trace (id, org_id, workflow_id, channel, status)
            VALUES (900000001, 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000f001', 'web', 'active');
            """);
        await owner.CommitAsync();
    }

    /// <summary>An owner connection of its own (not pooled) that LISTENs and queues what arrives.</summary>
    private sealed class Listener : IAsyncDisposable
    {
        private readonly NpgsqlConnection _conn;
        private readonly ConcurrentQueue<NpgsqlNotificationEventArgs> _arrived = new();

        private Listener(NpgsqlConnection conn)
        {
            _conn = conn;
            _conn.Notification += (_, e) => _arrived.Enqueue(e);
        }

        public static async Task<Listener> StartAsync(string ownerConnectionString)
        {
            var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ownerConnectionString) { Pooling = false }.ConnectionString);
            await conn.OpenAsync();
            await conn.ExecAsync("LISTEN workflow_events");
            return new Listener(conn);
        }

        /// <summary>What arrived before the notification of event <paramref name="markerId"/> (which must arrive).</summary>
        public async Task<List<NpgsqlNotificationEventArgs>> ReceiveUntilAsync(long markerId)
        {
            var received = new List<NpgsqlNotificationEventArgs>();
            var deadline = DateTime.UtcNow + Patience;
            while (true)
            {
                while (_arrived.TryDequeue(out var n))
                {
                    if (n.Channel == "workflow_events" && IdOf(n) == markerId) return received;
                    received.Add(n);
                }
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                    throw new Xunit.Sdk.XunitException(
                        $"no notification for marker event {markerId} within {Patience}; got {received.Count} others");
                await _conn.WaitAsync(left);
            }
        }

        public ValueTask DisposeAsync() => _conn.DisposeAsync();
    }

    private static long IdOf(NpgsqlNotificationEventArgs n)
    {
        using var doc = JsonDocument.Parse(n.Payload);
        return doc.RootElement.GetProperty("id").GetInt64();
    }

    private async Task<long> CommitMarkerAsync()
    {
        await using var owner = await db.OpenAsOwnerAsync();
        var id = await owner.Connection.ScalarAsync<long>(
            "INSERT INTO workflow_events (org_id, trace_id, event_type) VALUES ($1, $2, 'test.marker') RETURNING id", OrgA, MarkerTrace);
        await owner.CommitAsync();
        return id;
    }

    private static void AssertPayload(NpgsqlNotificationEventArgs n, long eventId, long traceId, string type)
    {
        Assert.Equal("workflow_events", n.Channel);
        using var doc = JsonDocument.Parse(n.Payload);
        var root = doc.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.Equal(["id", "org_id", "trace_id", "type"],
            root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(eventId, root.GetProperty("id").GetInt64());
        Assert.Equal(traceId, root.GetProperty("trace_id").GetInt64());
        Assert.Equal(OrgA, root.GetProperty("org_id").GetGuid());
        Assert.Equal(type, root.GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_helper_function_event_is_announced_once_with_ids_only()
    {
        await EnsureOrganisationAsync();
        await using var listener = await Listener.StartAsync(db.OwnerConnectionString);

        long traceId;
        await using (var tenant = await db.OpenAsTenantAsync(OrgA, UserA))
        {
            traceId = await tenant.Connection.ScalarAsync<long>(
                "SELECT start_workflow_execution($1, 'web'::workflow_channel, $2, '{\"portal\": \"availity\"}'::jsonb, NULL)",
                Workflow, $"EXT-{Guid.NewGuid():N}");
            await tenant.CommitAsync();
        }
        var received = await listener.ReceiveUntilAsync(await CommitMarkerAsync());

        await using var owner = await db.OpenAsOwnerAsync();
        var eventId = await owner.Connection.ScalarAsync<long>("SELECT id FROM workflow_events WHERE trace_id = $1", traceId);
        var notification = Assert.Single(received);
        AssertPayload(notification, eventId, traceId, "workflow_started");
        Assert.DoesNotContain("availity", notification.Payload);
        Assert.DoesNotContain("EXT-", notification.Payload);
    }

    [Fact]
    public async Task Every_event_of_a_transaction_is_announced_in_order()
    {
        await EnsureOrganisationAsync();
        await using var listener = await Listener.StartAsync(db.OwnerConnectionString);

        long traceId;
        await using (var tenant = await db.OpenAsTenantAsync(OrgA, UserA))
        {
            var conn = tenant.Connection;
            traceId = await conn.ScalarAsync<long>("SELECT start_workflow_execution($1, 'voice'::workflow_channel)", Workflow);
            await conn.ScalarAsync<long>("SELECT start_workflow_step($1, $2, 1, NULL)", traceId, NodeId);
            // ending the run as failed cancels the open step: step_cancelled + workflow_failed
            await conn.ExecAsync("SELECT complete_workflow_execution($1, 'failed', 'payer line busy')", traceId);
            await tenant.CommitAsync();
        }
        var received = await listener.ReceiveUntilAsync(await CommitMarkerAsync());

        await using var owner = await db.OpenAsOwnerAsync();
        var events = await owner.Connection.RowsAsync(
            "SELECT id, event_type FROM workflow_events WHERE trace_id = $1 ORDER BY id", traceId);
        Assert.Equal(["workflow_started", "step_started", "step_cancelled", "workflow_failed"],
            events.Select(e => (string)e["event_type"]!).ToArray());
        Assert.Equal(events.Count, received.Count);
        for (var i = 0; i < events.Count; i++)
            AssertPayload(received[i], (long)events[i]["id"]!, traceId, (string)events[i]["event_type"]!);
    }

    [Fact]
    public async Task A_megabyte_of_event_data_still_notifies_with_a_tiny_payload()
    {
        await EnsureOrganisationAsync();
        await using var listener = await Listener.StartAsync(db.OwnerConnectionString);

        long eventId;
        await using (var tenant = await db.OpenAsTenantAsync(OrgA, UserA))
        {
            eventId = await tenant.Connection.ScalarAsync<long>(
                "INSERT INTO workflow_events (trace_id, event_type, event_data) " +
                "VALUES ($1, 'document.received', jsonb_build_object('pdf', repeat('x', 1048576))) RETURNING id", MarkerTrace);
            await tenant.CommitAsync();
        }
        var received = await listener.ReceiveUntilAsync(await CommitMarkerAsync());

        await using (var owner = await db.OpenAsOwnerAsync())
        {
            Assert.True(await owner.Connection.ScalarAsync<int>(
                "SELECT octet_length(event_data::text) FROM workflow_events WHERE id = $1", eventId) > 1_048_576);
        }
        var notification = Assert.Single(received);
        AssertPayload(notification, eventId, MarkerTrace, "document.received");
        Assert.True(notification.Payload.Length < 200, $"payload of {notification.Payload.Length} characters: {notification.Payload}");
    }

    [Fact]
    public async Task A_rolled_back_transaction_announces_nothing()
    {
        await EnsureOrganisationAsync();
        await using var listener = await Listener.StartAsync(db.OwnerConnectionString);
        var externalId = $"EXT-{Guid.NewGuid():N}";

        await using (var tenant = await db.OpenAsTenantAsync(OrgA, UserA))
        {
            var traceId = await tenant.Connection.ScalarAsync<long>(
                "SELECT start_workflow_execution($1, 'web'::workflow_channel, $2)", Workflow, externalId);
            await tenant.Connection.ExecAsync("SELECT set_workflow_context($1, 'member_id', '\"M-1\"')", traceId);
            Assert.Equal(2L,
                await tenant.Connection.ScalarAsync<long>("SELECT count(*) FROM workflow_events WHERE trace_id = $1", traceId));
            await tenant.Transaction.RollbackAsync();
        }
        var received = await listener.ReceiveUntilAsync(await CommitMarkerAsync());

        Assert.Empty(received);
        await using var owner = await db.OpenAsOwnerAsync();
        Assert.Equal(0L,
            await owner.Connection.ScalarAsync<long>("SELECT count(*) FROM workflow_trace WHERE external_id = $1", externalId));
    }

    [Fact]
    public async Task Rows_moved_into_a_new_partition_are_not_announced_again_and_the_partition_notifies()
    {
        await EnsureOrganisationAsync();
        await using var listener = await Listener.StartAsync(db.OwnerConnectionString);

        long strayId, laterId;
        await using (var owner = await db.OpenAsOwnerAsync())
        {
            // March 2019 has no partition: the row lands in the default one
            strayId = await owner.Connection.ScalarAsync<long>(
                "INSERT INTO workflow_events (org_id, trace_id, event_type, created_at) " +
                "VALUES ($1, $2, 'stray', '2019-03-10 00:00:00+00') RETURNING id",
                OrgA, MarkerTrace);
            await owner.CommitAsync();
        }
        await using (var owner = await db.OpenAsOwnerAsync())
        {
            Assert.Equal(1, await owner.Connection.ScalarAsync<int>(
                "SELECT ensure_workflow_event_partitions('2019-03-01 00:00:00+00', '2019-04-01 00:00:00+00')"));
            await owner.CommitAsync();
        }
        await using (var owner = await db.OpenAsOwnerAsync())
        {
            laterId = await owner.Connection.ScalarAsync<long>(
                "INSERT INTO workflow_events (org_id, trace_id, event_type, created_at) " +
                "VALUES ($1, $2, 'later', '2019-03-20 00:00:00+00') RETURNING id",
                OrgA, MarkerTrace);
            await owner.CommitAsync();
        }
        var received = await listener.ReceiveUntilAsync(await CommitMarkerAsync());

        // the stray row once (its insert), nothing for the move, the later row once (the new partition's trigger)
        Assert.Equal(2, received.Count);
        AssertPayload(received[0], strayId, MarkerTrace, "stray");
        AssertPayload(received[1], laterId, MarkerTrace, "later");
        await using var check = await db.OpenAsOwnerAsync();
        Assert.Equal(["workflow_events_p201903", "workflow_events_p201903"],
            (await check.Connection.RowsAsync(
                "SELECT tableoid::regclass::text AS part FROM workflow_events WHERE id = ANY ($1) ORDER BY id", new[] { strayId, laterId }))
            .Select(r => (string)r["part"]!).ToArray());
    }
}
