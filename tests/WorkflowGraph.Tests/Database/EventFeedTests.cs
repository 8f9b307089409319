using Npgsql;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

/// <summary>
/// workflow_events_since: reading the event log from a snapshot position covers every committed event exactly
/// once, also when transactions commit out of id order.
/// </summary>
public sealed class EventFeedTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private sealed record Batch(string? Position, List<long> Ids);

    private async Task<(TenantWorld World, long TraceId)> RunAsync()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var world = await TenantWorld.CreateAsync(conn, "Feed");
        return (world, await world.StartRunAsync(conn));
    }

    private async Task<string> PositionAsync()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        return await conn.ScalarAsync<string>("SELECT pg_current_snapshot()::text");
    }

    private async Task<Batch> ReadAsync(string since, long traceId, string? upto = null, long? afterId = null)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var rows = await conn.RowsAsync(
            "SELECT next_position::text AS position, id FROM workflow_events_since($1::pg_snapshot, $2::pg_snapshot, $3, $4)",
            since, upto, afterId, traceId);
        return new Batch(rows.Count > 0 ? (string)rows[0]["position"]! : null, rows.Select(r => (long)r["id"]!).ToList());
    }

    private static Task<long> InsertEventAsync(NpgsqlConnection conn, TenantWorld world, long traceId, string type) =>
        conn.ScalarAsync<long>("INSERT INTO workflow_events (org_id, trace_id, event_type) VALUES ($1, $2, $3) RETURNING id",
            world.OrgId, traceId, type);

    [Fact]
    public async Task An_event_committed_after_a_later_id_was_read_is_still_delivered_once()
    {
        var (world, traceId) = await RunAsync();
        var start = await PositionAsync();
        var seen = (await ReadAsync(start, traceId)).Ids; // workflow_started may or may not precede the position
        var position = await PositionAsync();

        await using var slow = await db.DataSource.OpenConnectionAsync();
        await slow.ExecAsync("BEGIN");
        var early = await InsertEventAsync(slow, world, traceId, "slow_writer");
        await using (var fast = await db.DataSource.OpenConnectionAsync())
            await InsertEventAsync(fast, world, traceId, "fast_writer");

        var first = await ReadAsync(position, traceId);
        Assert.DoesNotContain(early, first.Ids);
        Assert.Single(first.Ids);
        Assert.True(first.Ids[0] > early);

        await slow.ExecAsync("COMMIT");
        var second = await ReadAsync(first.Position!, traceId);
        Assert.Equal([early], second.Ids);
        Assert.Empty((await ReadAsync(second.Position!, traceId)).Ids);
    }

    [Fact]
    public async Task A_reader_stopped_inside_a_batch_resumes_with_the_rest_and_what_came_later()
    {
        var (world, traceId) = await RunAsync();
        var since = await PositionAsync();
        await using var slow = await db.DataSource.OpenConnectionAsync();
        await slow.ExecAsync("BEGIN");
        var late = await InsertEventAsync(slow, world, traceId, "late");
        var batchIds = new List<long>();
        await using (var writer = await db.DataSource.OpenConnectionAsync())
            for (var i = 0; i < 3; i++)
                batchIds.Add(await InsertEventAsync(writer, world, traceId, $"batch_{i}"));
        var batch = await ReadAsync(since, traceId);
        Assert.Equal(batchIds, batch.Ids);
        await slow.ExecAsync("COMMIT");

        // the reader handled only the first row of the batch
        var resumed = await ReadAsync(since, traceId, batch.Position, batchIds[0]);

        Assert.Equal([late, batchIds[1], batchIds[2]], resumed.Ids);
    }

    [Fact]
    public async Task Concurrent_writers_of_different_lengths_are_read_exactly_once_in_total()
    {
        var (world, traceId) = await RunAsync();
        var position = await PositionAsync();
        var delivered = new List<long>();
        using var stop = new CancellationTokenSource();

        var writers = Enumerable.Range(0, 6).Select(async writer =>
        {
            var random = new Random(writer);
            await using var conn = await db.DataSource.OpenConnectionAsync();
            for (var transaction = 0; transaction < 8; transaction++)
            {
                await conn.ExecAsync("BEGIN");
                for (var e = 0; e <= random.Next(3); e++)
                {
                    await InsertEventAsync(conn, world, traceId, $"writer_{writer}");
                    await Task.Delay(random.Next(15));
                }
                await conn.ExecAsync("COMMIT");
            }
        }).ToList();
        var reader = Task.Run(async () =>
        {
            while (true)
            {
                var done = writers.All(w => w.IsCompleted);
                var batch = await ReadAsync(position, traceId);
                delivered.AddRange(batch.Ids);
                position = batch.Position ?? position;
                if (done)
                    return;
                await Task.Delay(3);
            }
        });
        await Task.WhenAll(writers);
        await reader;

        await using var conn = await db.DataSource.OpenConnectionAsync();
        var all = (await conn.RowsAsync("SELECT id FROM workflow_events WHERE trace_id = $1 AND event_type LIKE 'writer\\_%' ORDER BY id", traceId))
            .Select(r => (long)r["id"]!).ToList();
        Assert.Equal(all.Count, delivered.Count);
        Assert.Equal(all, delivered.Order().ToList());
    }

    [Fact]
    public async Task The_service_role_reads_only_its_own_organisations_events()
    {
        var (a, traceA) = await RunAsync();
        var (b, _) = await RunAsync();
        var since = await PositionAsync();
        await using (var writer = await db.DataSource.OpenConnectionAsync())
            await InsertEventAsync(writer, a, traceA, "private");

        await using var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecAsync("BEGIN");
        await conn.BecomeTenantAsync(b.OrgId);
        Assert.Equal(0L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_events_since($1::pg_snapshot)", since));
        await conn.ExecAsync("ROLLBACK");
        await conn.ExecAsync("BEGIN");
        await conn.BecomeTenantAsync(a.OrgId);
        Assert.Equal(1L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_events_since($1::pg_snapshot)", since));
        await conn.ExecAsync("ROLLBACK");
    }
}
