using Npgsql;
using WorkflowGraph.Database;
using WorkflowGraph.Querying;
using WorkflowGraph.SchemaBinding;
using WorkflowGraph.Subscriptions;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

/// <summary>
/// The service's event log reader (<see cref="EventLogReader"/>, the statement subscriptions run) against the real
/// database: reading on from the positions it returns covers every committed event exactly once, also when
/// transactions commit out of id order, and a position inside a batch resumes with the rest of that batch.
/// </summary>
public sealed class EventFeedTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    /// <summary>More rows than any of these tests writes: one read returns them all.</summary>
    private const int WholeLog = 10_000;

    private readonly EventLogReader _reader =
        new(db.DataSource, GraphModel.Build(new QueryLimits(), Features.All), [], new SubscriptionOptions());

    private async Task<(TenantWorld World, long TraceId)> RunAsync()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var world = await TenantWorld.CreateAsync(conn, "Feed");
        return (world, await world.StartRunAsync(conn));
    }

    private Task<EventPosition> PositionAsync() => _reader.CurrentAsync(CancellationToken.None);

    /// <summary>One read, as the organisation's tenant; no shapes: only the ids matter here. <paramref name="recent"/>:
    /// the plan the live feed uses for a recent position (one generic plan), else the one planned for the values.</summary>
    private Task<EventLogBatch> ReadAsync(Guid orgId, EventPosition from, long? traceId = null, int limit = WholeLog,
        bool recent = false) =>
        _reader.ReadAsync(orgId, from, new EventFilter(traceId, null, null), [], limit, CancellationToken.None, recent: recent);

    /// <summary>Reads on as long as the reader says there may be more right away, as a feed or a replay does (the feed
    /// reads a recent position with its generic plan, and after a full batch plans for the values).</summary>
    private async Task<(List<long> Ids, EventPosition Next)> ReadOnAsync(Guid orgId, EventPosition from, long traceId,
        int limit = WholeLog, bool recent = false)
    {
        var ids = new List<long>();
        EventLogBatch batch;
        var caughtUp = true;
        do
        {
            batch = await ReadAsync(orgId, from, traceId, limit, recent && caughtUp);
            caughtUp = !batch.More;
            ids.AddRange(Ids(batch));
            if (batch.More)
                Assert.NotEqual(from, batch.Next); // each read moves on, or reading on would never end
            from = batch.Next;
        } while (batch.More);
        return (ids, from);
    }

    private static List<long> Ids(EventLogBatch batch) => batch.Rows.Select(r => r.Id).ToList();

    private static Task<long> InsertEventAsync(NpgsqlConnection conn, TenantWorld world, long traceId, string type) =>
        conn.ScalarAsync<long>("INSERT INTO workflow_events (org_id, trace_id, event_type) VALUES ($1, $2, $3) RETURNING id",
            world.OrgId, traceId, type);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_event_committed_after_a_later_id_was_read_is_still_delivered_once(bool recent)
    {
        var (world, traceId) = await RunAsync();
        var position = await PositionAsync();

        await using var slow = await db.DataSource.OpenConnectionAsync();
        await slow.ExecAsync("BEGIN");
        var early = await InsertEventAsync(slow, world, traceId, "slow_writer");
        await using (var fast = await db.DataSource.OpenConnectionAsync())
            await InsertEventAsync(fast, world, traceId, "fast_writer");

        var first = await ReadAsync(world.OrgId, position, traceId, recent: recent);
        Assert.DoesNotContain(early, Ids(first));
        Assert.Single(first.Rows);
        Assert.True(first.Rows[0].Id > early);
        Assert.False(first.More);

        await slow.ExecAsync("COMMIT");
        // the first read's snapshot had the slow writer running: the next read finds it among those
        Assert.NotEmpty(first.Next.Since.InProgress);
        var second = await ReadAsync(world.OrgId, first.Next, traceId, recent: recent);
        Assert.Equal([early], Ids(second));
        Assert.False(second.More);
        Assert.Empty((await ReadAsync(world.OrgId, second.Next, traceId, recent: recent)).Rows);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_reader_stopped_inside_a_batch_resumes_with_the_rest_and_what_came_later(bool recent)
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
        var batch = await ReadAsync(world.OrgId, since, traceId, recent: recent);
        Assert.Equal(batchIds, Ids(batch));
        await slow.ExecAsync("COMMIT");

        // the reader handled only the first row of the batch: the position that row's cursor holds (what the read
        // started from, the snapshot it read up to, the row's id)
        var stopped = new EventPosition(since.Since, batch.Next.Since, batchIds[0]);
        var resumed = await ReadOnAsync(world.OrgId, stopped, traceId, recent: recent);

        // the rest of the batch in id order, then what committed after it
        Assert.Equal([batchIds[1], batchIds[2], late], resumed.Ids);
        Assert.Empty((await ReadOnAsync(world.OrgId, resumed.Next, traceId, recent: recent)).Ids);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Concurrent_writers_of_different_lengths_are_read_exactly_once_in_total(bool recent)
    {
        var (world, traceId) = await RunAsync();
        var position = await PositionAsync();
        var delivered = new List<long>();

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
                // small batches: reads also stop and go on inside a batch while transactions commit
                var (ids, next) = await ReadOnAsync(world.OrgId, position, traceId, limit: 5, recent: recent);
                delivered.AddRange(ids);
                position = next;
                if (done)
                    return;
                await Task.Delay(3);
            }
        });
        await Task.WhenAll(writers);
        await reader;

        await using var conn = await db.DataSource.OpenConnectionAsync();
        var all = (await conn.RowsAsync(
                "SELECT id FROM workflow_events WHERE trace_id = $1 AND event_type LIKE 'writer\\_%' ORDER BY id", traceId))
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
        long own;
        await using (var writer = await db.DataSource.OpenConnectionAsync())
            own = await InsertEventAsync(writer, a, traceA, "private");

        Assert.Empty((await ReadAsync(b.OrgId, since)).Rows);
        Assert.Empty((await ReadAsync(b.OrgId, since, traceA)).Rows);
        Assert.Equal([own], Ids(await ReadAsync(a.OrgId, since)));
    }

    [Fact]
    public async Task A_recent_positions_read_has_one_plan_that_reads_only_the_new_events_however_long_the_log()
    {
        var (world, traceId) = await RunAsync();
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecAsync("INSERT INTO workflow_events (org_id, trace_id, event_type) " +
                             "SELECT $1, $2, 'earlier' FROM generate_series(1, 5000)", world.OrgId, traceId);
        await conn.ExecAsync("ANALYZE workflow_events");
        var position = await PositionAsync();
        // one transaction still running when the position was taken, committed since (the lookup of running ones)
        await using var slow = await db.DataSource.OpenConnectionAsync();
        await slow.ExecAsync("BEGIN");
        var running = await InsertEventAsync(slow, world, traceId, "running");
        position = await PositionAsync();
        await slow.ExecAsync("COMMIT");
        var fresh = new List<long> { running };
        for (var i = 0; i < 3; i++)
            fresh.Add(await InsertEventAsync(conn, world, traceId, "fresh"));

        var statements = new StatementLog();
        var reader = new EventLogReader(db.DataSource, GraphModel.Build(new QueryLimits(), Features.All), [statements],
            new SubscriptionOptions());
        var batch = await reader.ReadAsync(world.OrgId, position, EventFilter.All, [], 100, CancellationToken.None, recent: true);
        Assert.Equal(fresh, Ids(batch));

        // the same statement as the feed sends it, prepared and run twice with a generic plan: the rows it fetched
        // from the log's partitions are the new ones (and a few index neighbours), not the organisation's 5,000
        statements.Take();
        var (sql, parameters) = Assert.Single(statements.LastTaken);
        // a new session: a pooled one's statistics of earlier transactions may not be flushed yet, and PostgreSQL counts
        // them in pg_stat_xact_all_tables too
        var unpooled = new NpgsqlConnectionStringBuilder(db.OwnerConnectionString) { Pooling = false };
        await using var tenant = new NpgsqlConnection(unpooled.ConnectionString);
        await tenant.OpenAsync();
        await using (var begin = new NpgsqlBatch(tenant))
        {
            begin.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
            foreach (var command in TenantTransaction.Commands(world.OrgId, null, [("plan_cache_mode", "force_generic_plan")]))
                begin.BatchCommands.Add(command);
            await begin.ExecuteNonQueryAsync();
        }
        for (var run = 0; run < 2; run++)
        {
            await using var read = new NpgsqlCommand(sql, tenant);
            read.Parameters.AddRange(parameters.Select(p => p.Clone()).ToArray());
            await read.PrepareAsync();
            await using var rows = await read.ExecuteReaderAsync();
            var count = 0;
            while (await rows.ReadAsync())
                count++;
            Assert.Equal(fresh.Count, count);
        }
        // (a plan in id order over the organisation's index fetches the 5,000 before the new ones, each time). Counted
        // in the partitions that hold the organisation's log: a small partition of other tests' events may be read
        // whole by any plan, and says nothing about the length of this log
        // (looked up on another connection, so that the lookup's own reads are not counted)
        var logPartitions = await conn.ScalarAsync<long[]>(
            "SELECT array_agg(DISTINCT tableoid::int8) FROM workflow_events WHERE trace_id = $1", traceId);
        var fetched = await tenant.ScalarAsync<long>(
            "SELECT coalesce(sum(coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)), 0)::bigint " +
            "FROM pg_stat_xact_all_tables WHERE relid::int8 = ANY ($1)", logPartitions);
        Assert.InRange(fetched, 2 * fresh.Count, 500);
        await tenant.ExecAsync("ROLLBACK");
    }
}
