using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;
using static WorkflowGraph.Tests.Infrastructure.PlantedRuns;

namespace WorkflowGraph.Tests.Api;

/// <summary>
/// anomalies on generated runs of graph-data.sql's Eligibility Check (org A): a baseline day of about 10% failures and
/// noisy durations on every channel, then an interval hour where web's failure rate and efax's durations were planted
/// high (both found, nothing else), and a second day with noise alone (nothing found).
/// </summary>
public sealed class AnomalyTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    /// <summary>
    /// Runs of one channel between two times: one every <c>every</c> minutes, failing with probability <c>fail</c>, lasting
    /// a noisy <c>ms</c> milliseconds (uniform ±40%); seeded, so every run of the test writes the same rows.
    /// </summary>
    private static string Runs(string channel, string from, string to, int every, double fail, int ms) => $"""
        INSERT INTO workflow_trace (org_id, workflow_id, channel, status, start_time, end_time)
        SELECT 'aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-2222-4000-8000-000000000001', '{channel}',
               CASE WHEN random() < {fail.ToString(System.Globalization.CultureInfo.InvariantCulture)} THEN 'failed' ELSE 'completed' END,
               t, t + ({ms} * (0.6 + 0.8 * random())) * interval '1 millisecond'
          FROM generate_series('{from}'::timestamptz, '{to}'::timestamptz - interval '1 second', interval '{every} minutes') t;
        """;

    private async Task PlantAsync(string sql)
    {
        await using var conn = await api.Database.DataSource.OpenConnectionAsync();
        await conn.ExecAsync("SELECT setseed(0.14)");
        await conn.ExecAsync(sql);
        await conn.RefreshStatsRollupsAsync();
    }

    [Fact]
    public async Task Planted_failures_and_slow_runs_are_found_with_their_evidence_and_nothing_else()
    {
        const string Day = "2026-03-01T00:00:00Z", Hour = "2026-03-02T00:00:00Z", End = "2026-03-02T01:00:00Z";
        await PlantAsync(
            Runs("web", Day, Hour, 3, 0.1, 2000) + Runs("voice", Day, Hour, 3, 0.1, 30000) + Runs("efax", Day, Hour, 3, 0.1, 5000) +
            Runs("web", Hour, End, 1, 0.5, 2000) + Runs("voice", Hour, End, 1, 0.1, 30000) + Runs("efax", Hour, End, 1, 0.1, 15000));

        var response = await api.PostAsync($$"""
            { anomalies(window: { end: "{{End}}", intervalHours: 1, baselineHours: 24 }) {
                workflowId channel metric intervalStart intervalEnd current baseline currentCount baselineCount
                score threshold explanation } }
            """);

        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        var found = response.Data.GetProperty("anomalies").EnumerateArray().ToList();
        Assert.Equal(["WEB FAILURE_RATE", "EFAX P95_DURATION"],
            found.Select(a => $"{a.GetProperty("channel").GetString()} {a.GetProperty("metric").GetString()}"));
        var web = found[0];
        Assert.Equal(60, web.GetProperty("currentCount").GetInt64());
        Assert.Equal(480, web.GetProperty("baselineCount").GetInt64());
        Assert.InRange(web.GetProperty("current").GetDouble(), 30, 70);
        Assert.InRange(web.GetProperty("baseline").GetDouble(), 5, 15);
        Assert.True(web.GetProperty("score").GetDouble() >= web.GetProperty("threshold").GetDouble());
        Assert.Equal("2026-03-02T00:00:00+00:00", web.GetProperty("intervalStart").GetString());
        Assert.Contains("failed or timed out", web.GetProperty("explanation").GetString());
        var efax = found[1];
        Assert.InRange(efax.GetProperty("score").GetDouble(), 2.0, 4.0);
        Assert.InRange(efax.GetProperty("baseline").GetDouble(), 5000, 7500);
        Assert.Single(response.Statements);
    }

    [Fact]
    public async Task Noise_alone_is_not_reported_and_windows_are_bounded()
    {
        const string Day = "2026-04-01T00:00:00Z", Hour = "2026-04-02T00:00:00Z", End = "2026-04-02T01:00:00Z";
        await PlantAsync(
            Runs("web", Day, Hour, 2, 0.1, 2000) + Runs("voice", Day, Hour, 2, 0.3, 30000) + Runs("efax", Day, Hour, 2, 0.02, 5000) +
            Runs("web", Hour, End, 1, 0.1, 2000) + Runs("voice", Hour, End, 1, 0.3, 30000) + Runs("efax", Hour, End, 1, 0.02, 5000));

        var response = await api.PostAsync($$"""
            { anomalies(window: { end: "{{End}}", intervalHours: 1, baselineHours: 24 }) { channel metric score explanation } }
            """);
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        Assert.Equal("[]", response.Data.GetProperty("anomalies").ToString());

        var tooLong = await api.PostAsync("{ anomalies(window: { intervalHours: 1, baselineHours: 100000 }) { channel } }");
        Assert.Equal(["STATS_WINDOW_TOO_LARGE"], tooLong.ErrorCodes);
        Assert.Empty(tooLong.Statements);
        // the largest Int does not wrap the window's length around
        var largest = await api.PostAsync("{ anomalies(window: { intervalHours: 1, baselineHours: 2147483647 }) { channel } }");
        Assert.Equal(["STATS_WINDOW_TOO_LARGE"], largest.ErrorCodes);
        var otherOrganisation = await api.PostAsync(
            $$"""{ anomalies(window: { end: "{{End}}" }) { channel } }""", org: GraphApiFixture.OrgB);
        Assert.Equal("[]", otherOrganisation.Data.GetProperty("anomalies").ToString());
    }

    private static readonly Guid EligibilityCheck = Guid.Parse("aaaaaaaa-2222-4000-8000-000000000001");
    private static readonly Guid ClaimStatus = Guid.Parse("aaaaaaaa-2222-4000-8000-000000000002");
    private static readonly Guid OrgBEligibilityCheck = Guid.Parse("bbbbbbbb-2222-4000-8000-000000000001");

    /// <summary>Eligibility Check's three nodes (graph-data.sql: 101, 102, 103) as told, of another workflow from its base id.</summary>
    private static Node[] Nodes(int first, (double Fail, int Ms) one, (double Fail, int Ms) two, (double Fail, int Ms) three) =>
        [new(first, one.Fail, one.Ms), new(first + 1, two.Fail, two.Ms), new(first + 2, three.Fail, three.Ms)];

    [Fact]
    public async Task A_node_whose_steps_fail_or_slow_down_is_found_while_its_runs_barely_move_and_only_in_its_organisation()
    {
        const string Day = "2026-06-01T00:00:00Z", Hour = "2026-06-02T00:00:00Z", End = "2026-06-02T01:00:00Z";
        (double, int) steady = (0.02, 500), quick = (0.02, 300), sure = (0.02, 1000);
        await PlantAsync(
            Sql(GraphApiFixture.OrgA, EligibilityCheck, "web", Day, Hour, 3, 0.1, 20000, Nodes(101, steady, quick, sure)) +
            // the interval: node 102 five times slower, node 103 failing four steps in ten; the runs as before
            Sql(GraphApiFixture.OrgA, EligibilityCheck, "web", Hour, End, 1, 0.1, 20000, Nodes(101, steady, (0.02, 1500), (0.4, 1000))) +
            // another organisation's node jumps too, in the same hour
            Sql(GraphApiFixture.OrgB, OrgBEligibilityCheck, "web", Day, Hour, 3, 0.1, 20000, Nodes(301, steady, quick, sure)) +
            Sql(GraphApiFixture.OrgB, OrgBEligibilityCheck, "web", Hour, End, 1, 0.1, 20000, Nodes(301, (0.5, 500), quick, sure)));

        const string Query = $$"""
            { anomalies(window: { end: "{{End}}", intervalHours: 1, baselineHours: 24 }) {
                workflowId channel nodeId metric intervalStart current baseline currentCount baselineCount score threshold explanation } }
            """;
        var response = await api.PostAsync(Query);

        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        var found = response.Data.GetProperty("anomalies").EnumerateArray().ToList();
        // the runs' own series (nodeId null) is not among them: its failure rate and durations did not move
        Assert.Equal([$"{Ids.Node(103)} FAILURE_RATE", $"{Ids.Node(102)} P95_DURATION"],
            found.Select(a => $"{a.GetProperty("nodeId").GetString()} {a.GetProperty("metric").GetString()}"));
        Assert.All(found, a => Assert.Equal(Ids.Workflow(EligibilityCheck), a.GetProperty("workflowId").GetString()));
        Assert.All(found, a => Assert.Equal("WEB", a.GetProperty("channel").GetString()));
        var failing = found[0];
        Assert.Equal(60, failing.GetProperty("currentCount").GetInt64());
        Assert.Equal(480, failing.GetProperty("baselineCount").GetInt64());
        Assert.InRange(failing.GetProperty("current").GetDouble(), 25, 55);
        Assert.InRange(failing.GetProperty("baseline").GetDouble(), 0, 5);
        Assert.True(failing.GetProperty("score").GetDouble() >= failing.GetProperty("threshold").GetDouble());
        Assert.Contains("finished steps failed or timed out", failing.GetProperty("explanation").GetString());
        var slow = found[1];
        Assert.InRange(slow.GetProperty("score").GetDouble(), 4.0, 6.0);
        Assert.InRange(slow.GetProperty("baseline").GetDouble(), 300, 450);
        Assert.Contains("finished steps", slow.GetProperty("explanation").GetString());
        Assert.Single(response.Statements);

        // the other organisation sees its own node, and only it
        var theirs = await api.PostAsync(Query, org: GraphApiFixture.OrgB);
        Assert.Equal([$"{Ids.Workflow(OrgBEligibilityCheck)} {Ids.Node(301)} FAILURE_RATE"],
            theirs.Data.GetProperty("anomalies").EnumerateArray().Select(a =>
                $"{a.GetProperty("workflowId").GetString()} {a.GetProperty("nodeId").GetString()} {a.GetProperty("metric").GetString()}"));
    }

    [Fact]
    public async Task Node_series_of_noise_alone_or_of_too_few_steps_are_not_reported()
    {
        const string Day = "2026-07-01T00:00:00Z", Hour = "2026-07-02T00:00:00Z", End = "2026-07-02T01:00:00Z";
        Node[] web = Nodes(101, (0.1, 500), (0.3, 300), (0.02, 1000)), voice = Nodes(101, (0.05, 4000), (0.2, 800), (0.1, 90));
        await PlantAsync(
            Sql(GraphApiFixture.OrgA, EligibilityCheck, "web", Day, Hour, 2, 0.1, 20000, web) +
            Sql(GraphApiFixture.OrgA, EligibilityCheck, "web", Hour, End, 1, 0.1, 20000, web) +
            Sql(GraphApiFixture.OrgA, EligibilityCheck, "voice", Day, Hour, 2, 0.2, 60000, voice) +
            Sql(GraphApiFixture.OrgA, EligibilityCheck, "voice", Hour, End, 1, 0.2, 60000, voice) +
            // a small series: 9 runs of the baseline and 6 of the interval, whose node 201 fails every time and is 10 times
            // slower in the interval — under the minimum counts (10 finished, 20 timed), so not reported
            Sql(GraphApiFixture.OrgA, ClaimStatus, "efax", Day, Hour, 160, 0.0, 5000, Nodes(201, (0.0, 200), (0.0, 200), (0.0, 200))) +
            Sql(GraphApiFixture.OrgA, ClaimStatus, "efax", Hour, End, 10, 0.0, 5000, Nodes(201, (1.0, 2000), (0.0, 200), (0.0, 200))));

        var response = await api.PostAsync($$"""
            { anomalies(window: { end: "{{End}}", intervalHours: 1, baselineHours: 24 }) { workflowId nodeId channel metric explanation } }
            """);
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        Assert.Equal("[]", response.Data.GetProperty("anomalies").ToString());
    }
}
