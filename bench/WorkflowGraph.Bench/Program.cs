using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using WorkflowGraph.Bench;
using WorkflowGraph.Bench.Scenarios;
using WorkflowGraph.Development;
using WorkflowGraph.Hosting;

// The benchmark: a production-shaped data set, the service under load at N clients, next to the same SQL sent
// directly through Npgsql and next to PostGraphile serving the same database under the same row level security.
// The bench's own child process: the hand-written pages over HTTP (DirectHttpServer), started by the read scenarios.
if (args is [DirectHttpServer.Mode])
    return await DirectHttpServer.RunAsync();
var options = BenchOptions.Parse(args);
var log = Console.Out;
var root = RepoRoot.Find(Directory.GetCurrentDirectory()) ?? throw new InvalidOperationException("run from inside the repository");
log.WriteLine($"WorkflowGraph benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, " +
              $"{options.Traces:N0} traces, {options.Clients} clients, {options.Seconds} s per scenario " +
              $"after {options.WarmupSeconds} s of warm-up, load average {LoadAverage()}");
if (double.TryParse(LoadAverage().Split(' ')[0], CultureInfo.InvariantCulture, out var load) && load > Environment.ProcessorCount / 2.0)
    log.WriteLine("BUSY MACHINE: the load average is above half the cores before the benchmark starts; the table marks the rows " +
                  "measured while other processes ran, and their figures are relative only.");

// Every scenario, in order. A new scenario is a class implementing IScenario (its own file) and one line here.
IScenario[] scenarios =
[
    new DashboardScenario(),
    new DashboardTrustedDocumentScenario(),
    new TraceDetailScenario(),
    new PhiTraceDetailScenario(),
    AnalyticsScenario.ChannelPerformance,
    AnalyticsScenario.NodeExecutionStats,
    new StepLifecycleScenario(),
    StatsScenario.DailySeries,
    StatsScenario.NodeStatistics,
    new StatsMaintenanceScenario(),
    new QueueCycleScenario(),
    new QueueClaimScenario(),
    new SubscriptionFanoutScenario(),
    new TelemetryCostScenario(),
];

var clusterRoot = Path.Combine(root, ".data", "bench-pg");
await using var cluster = await EmbeddedPostgres.StartAsync(
    new EmbeddedPostgresOptions(clusterRoot) { Database = null }, NullLogger.Instance);
CpuSample.UseCluster(cluster.DataDirectory);
var ownerConnection = await DataSet.EnsureAsync(cluster, options.Traces, orgs: 20, log);
if (options.GenerateOnly)
    return 0;
// The service prepares statements sent twice on a connection (up to 64) unless its connection string says otherwise;
// the direct baseline gets the same setting, so both sides prepare alike (PostGraphile prepares by default).
ownerConnection += $";Max Auto Prepare={options.AutoPrepare};Auto Prepare Min Usages=2";
log.WriteLine(options.AutoPrepare > 0
    ? $"Auto-prepared statements: up to {options.AutoPrepare} per connection (service and direct SQL)."
    : "No prepared statements (service and direct SQL).");
var logins = await ServiceLogins.EnsureAsync(ownerConnection, clusterRoot);

// The service and the peer accept tokens signed with a key made for this run.
var signingKey = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
// The bench's own "front-end build" publishes its documents as a trusted documents manifest, as a real one would.
using var service = ServiceProcess.Start(logins, signingKey, log,
    new Dictionary<string, string> { ["GraphQL__TrustedDocumentsPath"] = TrustedManifest.Write() });
PeerProcess? peer = null;
// Ctrl-C: stop what this run started (the cluster only if this run started it) before the process ends.
Console.CancelKeyPress += (_, _) =>
{
    service.Dispose();
    peer?.Dispose();
    cluster.Dispose();
};
await service.WaitReadyAsync();
if (options.Peer)
{
    try
    {
        peer = await PeerProcess.StartAsync(root, ownerConnection, signingKey, BenchContext.TokenFor(signingKey, BenchContext.Viewer), log);
    }
    catch (Exception e)
    {
        log.WriteLine($"{PeerProcess.Label} could not be started, its rows are left out: {e.Message}");
    }
}
using var peerLifetime = peer;

await using var bench = new BenchContext(options, log, ownerConnection, logins, service, peer, signingKey);
var runs = new List<(IScenario, IReadOnlyList<LoadResult>)>();
var chosen = scenarios.Where(s =>
    options.Only.Count == 0 || options.Only.Any(o => s.Name.Contains(o, StringComparison.OrdinalIgnoreCase)));
foreach (var scenario in chosen)
{
    log.WriteLine($"{scenario.Name}:");
    runs.Add((scenario, await scenario.RunAsync(bench)));
}

log.WriteLine($"\n{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, " +
              $"{options.Traces:N0} traces, {options.Clients} clients, {options.Seconds} s per scenario " +
              $"after {options.WarmupSeconds} s of warm-up, load average {LoadAverage()}:");
var allMet = ResultTable.Print(log, runs);
log.WriteLine(allMet ? "\nAll goals met." : "\nSome goals are not met.");
return runs.SelectMany(r => r.Item2).Any(r => r.Failures > 0) ? 1 : 0;

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

public sealed record BenchOptions(int Traces, int Clients, int Seconds, bool Quick, bool Peer, bool GenerateOnly,
    IReadOnlyList<string> Only, int AutoPrepare = 0, int Instances = 1, int SlowSubscribers = 0, int Subscribers = 0,
    int FanOutSeconds = 0, int WarmupSeconds = 3)
{
    public static BenchOptions Parse(string[] args)
    {
        var quick = args.Contains("--quick");
        var scale = args.Contains("--scale");
        int Value(string name, int fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        }
        var only = Array.IndexOf(args, "--only") is var o and >= 0 && o + 1 < args.Length
            ? args[o + 1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];
        return new BenchOptions(
            Traces: Value("--traces", quick ? 10_000 : scale ? 1_000_000 : 100_000),
            Clients: Value("--clients", 16),
            Seconds: Value("--seconds", quick ? 4 : 15),
            Quick: quick,
            Peer: args.Contains("--peer") || (!quick && !args.Contains("--no-peer")),
            GenerateOnly: args.Contains("--generate-only"),
            Only: only,
            AutoPrepare: Value("--auto-prepare", 64),
            Instances: Math.Max(1, Value("--instances", 1)),
            SlowSubscribers: Value("--slow-subscribers", 0),
            Subscribers: Value("--subscribers", 0),
            FanOutSeconds: Value("--fan-out-seconds", 0),
            WarmupSeconds: Value("--warmup", quick ? 1 : 3));
    }
}
