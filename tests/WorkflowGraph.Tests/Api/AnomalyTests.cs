using WorkflowGraph.Tests.Database;

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
}
