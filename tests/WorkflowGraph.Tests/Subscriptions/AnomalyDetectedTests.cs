using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using WorkflowGraph.Analytics.Advice;
using WorkflowGraph.Database;
using WorkflowGraph.Querying;
using WorkflowGraph.Tests.Auth;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Subscriptions;

/// <summary>
/// A service whose rollup job is off (the tests run its evaluation themselves, so nothing depends on timing), whose
/// anomaly alerts stand at 2026-05-02 00:30 UTC (the interval is that hour, the baseline the day before), and whose
/// messages hold at most one anomaly each.
/// </summary>
public sealed class AnomalyAlertHost : IAsyncLifetime
{
    public static readonly DateTimeOffset Now = new(2026, 5, 2, 0, 30, 0, TimeSpan.Zero);

    private WebApplicationFactory<Program>? _factory;

    public DatabaseFixture Database { get; } = new();

    public IServiceProvider Services => _factory!.Services;

    public async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host
            .UseSetting("ConnectionStrings:WorkflowGraph", Database.ServiceConnectionString)
            .UseSetting("ConnectionStrings:WorkflowGraphOwner", Database.OwnerConnectionString)
            .UseSetting("Analytics:RollupIntervalSeconds", "0")
            .UseSetting("GraphQL:MaxAnomaliesPerMessage", "1")
            .UseTestSigningKey()
            .ConfigureTestServices(services => services.AddSingleton(provider => new AnomalyAlerts(
                provider.GetRequiredService<DatabaseConnections>(), provider.GetRequiredService<QueryLimits>(), new FixedTime(Now)))));
        _ = _factory.Services;
    }

    public async Task DisposeAsync()
    {
        if (_factory is not null)
            await _factory.DisposeAsync();
        await Database.DisposeAsync();
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}

/// <summary>
/// anomalyDetected: planted anomalies reach the subscribers of their organisation once each, at most one per message
/// (the host's cap), with the evidence of <c>anomalies</c>; another organisation's subscriber, whose runs are noise
/// alone, hears nothing.
/// </summary>
public sealed class AnomalyDetectedTests(AnomalyAlertHost host) : IClassFixture<AnomalyAlertHost>
{
    /// <summary>Runs of one channel between two times, one every <c>every</c> minutes; seeded, so always the same rows.</summary>
    private static string Runs(TenantWorld world, string channel, string from, string to, int every, double fail, int ms) => $"""
        INSERT INTO workflow_trace (org_id, workflow_id, channel, status, start_time, end_time)
        SELECT '{world.OrgId}', '{world.WorkflowId}', '{channel}',
               CASE WHEN random() < {fail.ToString(CultureInfo.InvariantCulture)} THEN 'failed' ELSE 'completed' END,
               t, t + ({ms} * (0.6 + 0.8 * random())) * interval '1 millisecond'
          FROM generate_series('{from}'::timestamptz, '{to}'::timestamptz - interval '1 second', interval '{every} minutes') t;
        """;

    private const string Day = "2026-05-01T00:00:00Z", Hour = "2026-05-02T00:00:00Z", End = "2026-05-02T01:00:00Z";

    /// <summary>The document .graphqlrc.json lists (tests/**/*.graphql), as a front-end would send it.</summary>
    private static readonly string Selection =
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Subscriptions", "anomaly-detected.graphql"));

    private static List<JsonElement> Anomalies(JsonElement result) =>
        [.. result.GetProperty("data").GetProperty("anomalyDetected").EnumerateArray()];

    [Fact]
    public async Task Planted_anomalies_reach_their_organisation_once_each_one_per_message_and_noise_reaches_nobody()
    {
        TenantWorld mine, theirs;
        await using (var conn = await host.Database.DataSource.OpenConnectionAsync())
        {
            mine = await TenantWorld.CreateAsync(conn, "Anomalies");
            theirs = await TenantWorld.CreateAsync(conn, "Noise");
            await conn.ExecAsync("SELECT setseed(0.14)");
            await conn.ExecAsync(
                Runs(mine, "web", Day, Hour, 3, 0.1, 2000) + Runs(mine, "efax", Day, Hour, 3, 0.1, 5000) +
                Runs(mine, "web", Hour, End, 1, 0.5, 2000) + Runs(mine, "efax", Hour, End, 1, 0.1, 15000) +
                Runs(theirs, "web", Day, Hour, 2, 0.1, 2000) + Runs(theirs, "voice", Day, Hour, 2, 0.3, 30000) +
                Runs(theirs, "web", Hour, End, 1, 0.1, 2000) + Runs(theirs, "voice", Hour, End, 1, 0.3, 30000));
            await conn.RefreshStatsRollupsAsync();
        }
        await using var subscription = await TestSubscription.StartAsync(host.Services, mine.OrgId, Selection);
        await using var other = await TestSubscription.StartAsync(host.Services, theirs.OrgId, Selection);
        Assert.Null(subscription.Errors);
        Assert.Null(other.Errors);
        var alerts = host.Services.GetRequiredService<AnomalyAlerts>();

        // one evaluation per pass: the cap of one anomaly per message leaves the second for the next pass
        Assert.Equal(1, await alerts.EvaluateAsync(CancellationToken.None));
        var first = Anomalies(await subscription.NextAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, await alerts.EvaluateAsync(CancellationToken.None));
        var second = Anomalies(await subscription.NextAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, await alerts.EvaluateAsync(CancellationToken.None));

        var found = first.Concat(second).ToList();
        Assert.Equal(["WEB FAILURE_RATE", "EFAX P95_DURATION"],
            found.Select(a => $"{a.GetProperty("channel").GetString()} {a.GetProperty("metric").GetString()}"));
        var web = found[0];
        Assert.Equal(Ids.Workflow(mine.WorkflowId), web.GetProperty("workflowId").GetString());
        Assert.Equal("2026-05-02T00:00:00+00:00", web.GetProperty("intervalStart").GetString());
        Assert.Equal(60, web.GetProperty("currentCount").GetInt64());
        Assert.Equal(480, web.GetProperty("baselineCount").GetInt64());
        Assert.InRange(web.GetProperty("baseline").GetDouble(), 5, 15);
        Assert.True(web.GetProperty("score").GetDouble() >= web.GetProperty("threshold").GetDouble());
        Assert.Contains("failed or timed out", web.GetProperty("explanation").GetString());
        Assert.False(await subscription.AnyWithinAsync(TimeSpan.FromMilliseconds(200)));
        // the noisy organisation's subscriber was evaluated three times and told nothing
        Assert.False(await other.AnyWithinAsync(TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task A_planted_node_anomaly_reaches_its_organisation_once_and_another_organisations_reaches_only_that_one()
    {
        TenantWorld mine, theirs;
        await using (var conn = await host.Database.DataSource.OpenConnectionAsync())
        {
            mine = await TenantWorld.CreateAsync(conn, "Node anomalies");
            theirs = await TenantWorld.CreateAsync(conn, "Their node anomaly");
            PlantedRuns.Node[] Steady(TenantWorld w) =>
                [new(w.NodeIds[0], 0.02, 400), new(w.NodeIds[1], 0.02, 300), new(w.NodeIds[2], 0.02, 900)];
            await conn.ExecAsync("SELECT setseed(0.14)");
            await conn.ExecAsync(
                PlantedRuns.Sql(mine.OrgId, mine.WorkflowId, "voice", Day, Hour, 3, 0.1, 30000, Steady(mine)) +
                // the interval: the first node three times slower, the third failing half its steps; the runs as before
                PlantedRuns.Sql(mine.OrgId, mine.WorkflowId, "voice", Hour, End, 1, 0.1, 30000,
                    new(mine.NodeIds[0], 0.02, 1200), new(mine.NodeIds[1], 0.02, 300), new(mine.NodeIds[2], 0.5, 900)) +
                PlantedRuns.Sql(theirs.OrgId, theirs.WorkflowId, "voice", Day, Hour, 3, 0.1, 30000, Steady(theirs)) +
                PlantedRuns.Sql(theirs.OrgId, theirs.WorkflowId, "voice", Hour, End, 1, 0.1, 30000,
                    new(theirs.NodeIds[0], 0.02, 400), new(theirs.NodeIds[1], 0.6, 300), new(theirs.NodeIds[2], 0.02, 900)));
            await conn.RefreshStatsRollupsAsync();
        }
        await using var subscription = await TestSubscription.StartAsync(host.Services, mine.OrgId, Selection);
        await using var other = await TestSubscription.StartAsync(host.Services, theirs.OrgId, Selection);
        Assert.Null(subscription.Errors);
        Assert.Null(other.Errors);
        var alerts = host.Services.GetRequiredService<AnomalyAlerts>();

        // first pass: one of mine (the cap) and theirs; second: my other one; third: nothing new
        Assert.Equal(2, await alerts.EvaluateAsync(CancellationToken.None));
        var first = Anomalies(await subscription.NextAsync(TimeSpan.FromSeconds(30)));
        var their = Anomalies(await other.NextAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, await alerts.EvaluateAsync(CancellationToken.None));
        var second = Anomalies(await subscription.NextAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, await alerts.EvaluateAsync(CancellationToken.None));

        static string Series(JsonElement a) =>
            $"{a.GetProperty("workflowId").GetString()} {a.GetProperty("nodeId").GetString()} {a.GetProperty("metric").GetString()}";
        Assert.Equal(
            [$"{Ids.Workflow(mine.WorkflowId)} {Ids.Node(mine.NodeIds[2])} FAILURE_RATE",
             $"{Ids.Workflow(mine.WorkflowId)} {Ids.Node(mine.NodeIds[0])} P95_DURATION"],
            first.Concat(second).Select(Series));
        Assert.Equal([$"{Ids.Workflow(theirs.WorkflowId)} {Ids.Node(theirs.NodeIds[1])} FAILURE_RATE"], their.Select(Series));
        var failing = first[0];
        Assert.Equal("VOICE", failing.GetProperty("channel").GetString());
        Assert.Equal("2026-05-02T00:00:00+00:00", failing.GetProperty("intervalStart").GetString());
        Assert.Equal(60, failing.GetProperty("currentCount").GetInt64());
        Assert.Equal(480, failing.GetProperty("baselineCount").GetInt64());
        Assert.Contains("finished steps failed or timed out", failing.GetProperty("explanation").GetString());
        Assert.False(await subscription.AnyWithinAsync(TimeSpan.FromMilliseconds(200)));
        Assert.False(await other.AnyWithinAsync(TimeSpan.FromMilliseconds(200)));
    }
}
