using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using Npgsql;
using WorkflowGraph.Auth;
using WorkflowGraph.Development;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Bench.Scenarios;

/// <summary>
/// Live fan-out: WebSocket subscribers (graphql-transport-ws), two per run over runs of two organisations, follow
/// <c>workflowEvents(traceId:)</c> while writers commit events at a fixed rate. Latency runs from the moment a
/// writer sends the statement that commits an event (so it includes that round trip) to the moment a client has
/// the event's message; every delivery is counted against what the writes promised. With <c>--slow-subscribers N</c>,
/// N more sockets of the first organisation subscribe to every event of it with its run's context (about 180 kB a
/// message) and never read: the byte bounds cut them, and the others' latency shows whether they were slowed.
/// </summary>
public sealed class SubscriptionFanoutScenario : IScenario
{
    public string Name => "subscription fan-out";

    public ScenarioGoals Goals { get; } = new(MaxP99Ms: 50);

    private const int SubscribersPerRun = 2;

    /// <summary>With <c>--instances N</c>, N service processes on the one database take the subscribers in turn (the
    /// writers commit straight to the database, as before).</summary>
    public async Task<IReadOnlyList<LoadResult>> RunAsync(BenchContext bench)
    {
        var extra = new List<ServiceProcess>();
        try
        {
            for (var i = 1; i < bench.Options.Instances; i++)
                extra.Add(ServiceProcess.Start(bench.Logins, bench.SigningKey, bench.Log));
            foreach (var instance in extra)
                await instance.WaitReadyAsync();
            return await RunOnAsync(bench, [bench.Service, .. extra]);
        }
        finally
        {
            foreach (var instance in extra)
                instance.Dispose();
        }
    }

    /// <summary>CPU of every instance together (the load generator and PostgreSQL are the same for all).</summary>
    private static CpuSample CpuOf(IReadOnlyList<ServiceProcess> services)
    {
        var samples = services.Select(s => CpuSample.Take(s.Process)).ToArray();
        return samples[0] with { Service = samples.Aggregate(TimeSpan.Zero, (sum, sample) => sum + sample.Service) };
    }

    private async Task<IReadOnlyList<LoadResult>> RunOnAsync(BenchContext bench, IReadOnlyList<ServiceProcess> services)
    {
        var quick = bench.Options.Quick;
        var subscribers = bench.Options.Subscribers > 0 ? bench.Options.Subscribers : quick ? 200 : 1000;
        var eventsPerSecond = quick ? 200 : 500;
        var duration = bench.Options.FanOutSeconds > 0 ? TimeSpan.FromSeconds(bench.Options.FanOutSeconds)
            : quick ? bench.Duration : TimeSpan.FromSeconds(60);
        var runs = (subscribers + SubscribersPerRun - 1) / SubscribersPerRun;
        var orgs = new[] { BenchContext.Org, Guid.Parse("00000000-0000-4000-8000-000000000002") };

        // one live run per pair of subscribers, alternating between the two organisations
        await using var owner = NpgsqlDataSource.Create(bench.OwnerConnection);
        var traces = new List<(long TraceId, Guid Org)>();
        for (var i = 0; i < runs; i++)
        {
            var org = orgs[i % 2];
            var workflow = Guid.Parse($"00000000-0000-4000-9000-{(i % 2 + 1) * 10 + 1:D12}");
            await using var start = owner.CreateCommand("SELECT start_workflow_execution($1, 'web', $2, NULL, NULL)");
            start.Parameters.AddWithValue(workflow);
            start.Parameters.AddWithValue($"fanout-{Guid.NewGuid():N}");
            traces.Add(((long)(await start.ExecuteScalarAsync())!, org));
        }

        var committedAt = new ConcurrentDictionary<string, long>();
        // when each measured write's commit was acknowledged to its writer, and each delivery with when its write was sent
        // and when it arrived: the latency from the write, and from the commit (its acknowledgement is after it; a
        // delivery that came first counts as 0)
        var acknowledgedAt = new ConcurrentDictionary<string, long>();
        var arrivals = new ConcurrentBag<(string Key, long Sent, long At)>();
        // each measured write's own round trip (statement, commit and its WAL flush): the part of the latency before
        // the event is committed, which the service cannot shorten
        var writeTimes = new ConcurrentBag<double>();
        var received = 0L;
        var duplicates = 0L;
        var seen = new ConcurrentDictionary<(int Client, string Key), bool>();
        var measuring = false;
        var clients = new List<FanoutClient>();
        var wsUris = services.Select(service => new UriBuilder(new Uri(service.Address, "/graphql")) { Scheme = "ws" }.Uri).ToArray();
        var tokens = orgs.ToDictionary(org => org, org => "Bearer " + DevelopmentTokens.Create(TokenSettings.KeyFrom(bench.SigningKey), org,
            Guid.NewGuid(), TenantRole.Viewer, TimeSpan.FromHours(2)));

        var slow = new List<ClientWebSocket>();
        if (bench.Options.SlowSubscribers > 0)
        {
            // a 60 kB context value on each run of the first organisation, which every slow subscription asks for three times
            await using (var large = owner.CreateCommand(
                "SELECT set_workflow_context(t, 'large', to_jsonb(repeat('x', 60000))) FROM unnest($1::bigint[]) t"))
            {
                large.Parameters.AddWithValue(traces.Where(t => t.Org == orgs[0]).Select(t => t.TraceId).ToArray());
                await large.ExecuteNonQueryAsync();
            }
            for (var i = 0; i < bench.Options.SlowSubscribers; i++)
                slow.Add(await FanoutClient.ConnectSilentAsync(wsUris[0], tokens[orgs[0]],
                    "subscription { workflowEvents { id trace { a: context { value } b: context { value } c: context { value } } } }"));
            bench.Log.WriteLine($"  {slow.Count} slow sockets subscribed to ~180 kB messages and do not read");
        }
        bench.Log.WriteLine($"  opening {subscribers} WebSocket subscriptions over {runs} runs of 2 organisations" +
                            (services.Count > 1 ? $", spread over {services.Count} service instances..." : "..."));
        for (var i = 0; i < subscribers; i++)
        {
            var (traceId, org) = traces[i / SubscribersPerRun];
            var index = i;
            var runId = GlobalId.Encode("WorkflowTrace", traceId.ToString(CultureInfo.InvariantCulture));
            var client = await FanoutClient.ConnectAsync(wsUris[i % wsUris.Length], tokens[org],
                $"subscription {{ workflowEvents(traceId: \"{runId}\") {{ id eventType eventData }} }}",
                key =>
                {
                    var now = Stopwatch.GetTimestamp();
                    if (!seen.TryAdd((index, key), true))
                    {
                        Interlocked.Increment(ref duplicates);
                        return;
                    }
                    Interlocked.Increment(ref received);
                    if (Volatile.Read(ref measuring) && committedAt.TryGetValue(key, out var sent))
                        arrivals.Add((key, sent, now));
                });
            clients.Add(client);
        }

        // every subscription is live once the first write to its run reached it
        var warmup = 0;
        foreach (var (traceId, _) in traces)
            await WriteAsync(owner, traceId, $"warm-{warmup++}", committedAt);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Interlocked.Read(ref received) < subscribers && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        if (Interlocked.Read(ref received) < subscribers)
            throw new InvalidOperationException($"only {received} of {subscribers} subscriptions became live");

        Interlocked.Exchange(ref received, 0);
        seen.Clear();
        arrivals.Clear();
        Volatile.Write(ref measuring, true);
        ProcessMemory.ResetPeak(bench.Service.Process.Id);
        var memoryAtStart = ProcessMemory.ResidentMb(bench.Service.Process.Id);
        var cpuBefore = CpuOf(services);
        var started = Stopwatch.GetTimestamp();

        // writers: a fixed schedule of eventsPerSecond commits, round robin over the runs
        const int writers = 8;
        var total = (long)(eventsPerSecond * duration.TotalSeconds);
        var interval = 1.0 / eventsPerSecond;
        var next = -1L;
        var memorySamples = new List<double>();
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                if (ProcessMemory.ResidentMb(bench.Service.Process.Id) is { } mb)
                    lock (memorySamples) memorySamples.Add(mb);
                try { await Task.Delay(1000, sampling.Token); } catch (OperationCanceledException) { }
            }
        });
        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            long n;
            while ((n = Interlocked.Increment(ref next)) < total)
            {
                var due = started + (long)(n * interval * Stopwatch.Frequency);
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (wait > TimeSpan.Zero)
                    await Task.Delay(wait);
                var began = Stopwatch.GetTimestamp();
                await WriteAsync(owner, traces[(int)(n % traces.Count)].TraceId, $"e{n}", committedAt);
                acknowledgedAt[$"e{n}"] = Stopwatch.GetTimestamp();
                writeTimes.Add(Stopwatch.GetElapsedTime(began).TotalMilliseconds);
            }
        })));
        var writeSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var expected = total * SubscribersPerRun;
        deadline = DateTime.UtcNow.AddSeconds(10);
        while (Interlocked.Read(ref received) < expected && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        var cpu = CpuOf(services).Minus(cpuBefore);
        await sampling.CancelAsync();
        await sampler;
        var peak = ProcessMemory.PeakMb(bench.Service.Process.Id);
        var closed = clients.Count(c => c.Closed);
        foreach (var client in clients)
            await client.DisposeAsync();
        foreach (var socket in slow)
        {
            socket.Abort();
            socket.Dispose();
        }

        static double Percentile(double[] sorted, double p) =>
            sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
        var sorted = arrivals.Select(a => Stopwatch.GetElapsedTime(a.Sent, a.At).TotalMilliseconds).Order().ToArray();
        var fromCommit = arrivals.Select(a => acknowledgedAt.TryGetValue(a.Key, out var acknowledged)
            ? Math.Max(0, Stopwatch.GetElapsedTime(acknowledged, a.At).TotalMilliseconds) : double.NaN).Order().ToArray();
        var writes = writeTimes.Order().ToArray();
        var lost = expected - Interlocked.Read(ref received);
        string memoryLine;
        lock (memorySamples)
            memoryLine = memorySamples.Count == 0
                ? "n/a"
                : $"{memoryAtStart:0} MB at start, {memorySamples[memorySamples.Count / 2]:0} MB midway, " +
                  $"{memorySamples[^1]:0} MB at the end";
        var max = sorted.Length > 0 ? sorted[^1] : double.NaN;
        bench.Log.WriteLine($"  {subscribers} subscribers, {total} events committed in {writeSeconds:0.0} s " +
                            $"({total / writeSeconds:0} events/s): " +
                            $"{received} of {expected} deliveries arrived, {lost} lost, {duplicates} repeated, " +
                            $"{closed} connections closed by the server; " +
                            $"latency p50 {Percentile(sorted, 0.5):0.0} ms, p99 {Percentile(sorted, 0.99):0.0} ms, max {max:0.0} ms " +
                            $"(of which the write's own round trip: p50 {Percentile(writes, 0.5):0.0} ms, " +
                            $"p99 {Percentile(writes, 0.99):0.0} ms; " +
                            $"from the commit's acknowledgement to the client: p50 {Percentile(fromCommit, 0.5):0.0} ms, " +
                            $"p99 {Percentile(fromCommit, 0.99):0.0} ms); " +
                            $"service memory {memoryLine}, peak {peak:0} MB");
        var spread = services.Count > 1 ? $", {services.Count} instances" : "";
        var slowness = slow.Count > 0 ? $", {slow.Count} slow" : "";
        var label = $"{Name} ({subscribers} subscribers, {eventsPerSecond} events/s{spread}{slowness})";
        var result = new LoadResult(label, subscribers, writeSeconds,
            Interlocked.Read(ref received), Math.Max(0, lost) + duplicates, Percentile(sorted, 0.5), Percentile(sorted, 0.99))
        {
            Server = Server.WorkflowGraph,
            Cpu = cpu,
            PeakMemoryMb = peak,
            FirstError = lost > 0 || duplicates > 0 ? $"{lost} lost, {duplicates} repeated" : null,
        };
        return [result];
    }

    private static async Task WriteAsync(NpgsqlDataSource owner, long traceId, string key, ConcurrentDictionary<string, long> committedAt)
    {
        committedAt[key] = Stopwatch.GetTimestamp();
        await using var command = owner.CreateCommand("SELECT set_workflow_context($1, $2, 'true'::jsonb)");
        command.Parameters.AddWithValue(traceId);
        command.Parameters.AddWithValue(key);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A graphql-transport-ws client with one subscription; reports each event's context key as it arrives.</summary>
    private sealed class FanoutClient : IAsyncDisposable
    {
        private readonly ClientWebSocket _socket = new();
        private readonly CancellationTokenSource _stop = new();
        private Task _receiving = Task.CompletedTask;

        public bool Closed { get; private set; }

        public static async Task<FanoutClient> ConnectAsync(Uri uri, string authorization, string query, Action<string> onEvent)
        {
            var client = await SubscribeAsync(uri, authorization, query);
            client._receiving = Task.Run(() => client.ReceiveLoopAsync(onEvent));
            return client;
        }

        /// <summary>Connects, completes the graphql-transport-ws handshake and sends one subscribe.</summary>
        private static async Task<FanoutClient> SubscribeAsync(Uri uri, string authorization, string query)
        {
            var client = new FanoutClient();
            client._socket.Options.AddSubProtocol("graphql-transport-ws");
            await client._socket.ConnectAsync(uri, CancellationToken.None);
            await client.SendAsync(new { type = "connection_init", payload = new { Authorization = authorization } });
            using (var ack = await client.ReceiveAsync())
                if (ack?.RootElement.GetProperty("type").GetString() != "connection_ack")
                    throw new InvalidOperationException("the server did not acknowledge the connection");
            await client.SendAsync(new { id = "1", type = "subscribe", payload = new { query } });
            return client;
        }

        /// <summary>A socket that subscribes and then never reads again (what the server sends piles up).</summary>
        public static async Task<ClientWebSocket> ConnectSilentAsync(Uri uri, string authorization, string query)
        {
            var client = await SubscribeAsync(uri, authorization, query);
            return client._socket;
        }

        private async Task ReceiveLoopAsync(Action<string> onEvent)
        {
            try
            {
                while (await ReceiveAsync() is { } message)
                    using (message)
                    {
                        var root = message.RootElement;
                        switch (root.GetProperty("type").GetString())
                        {
                            case "next":
                                onEvent(root.GetProperty("payload").GetProperty("data").GetProperty("workflowEvents")
                                    .GetProperty("eventData").GetProperty("key").GetString()!);
                                break;
                            case "ping":
                                await SendAsync(new { type = "pong" });
                                break;
                        }
                    }
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
            }
            Closed = !_stop.IsCancellationRequested;
        }

        private Task SendAsync(object message) =>
            _socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message), WebSocketMessageType.Text, true, _stop.Token);

        private async Task<JsonDocument?> ReceiveAsync()
        {
            var buffer = new ArrayBufferWriter<byte>(1024);
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer.GetMemory(4096), _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                    return null;
                buffer.Advance(result.Count);
                if (result.EndOfMessage)
                    return JsonDocument.Parse(buffer.WrittenMemory);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            try
            {
                await _receiving;
            }
            catch (Exception)
            {
            }
            _socket.Abort();
            _socket.Dispose();
        }
    }
}
