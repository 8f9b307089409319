using System.Text.Json;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Api;

/// <summary>
/// channelAdvice over runs planted in February 2026 (graph-data.sql has none then): web 90 of 100 completed, voice 60
/// of 100, efax 5 of 5. The Wilson lower bound ranks web first and puts efax's five lucky runs (100%, bound 56.6%) above
/// voice (60%, bound 50.2%); the numbers it shows are the ones it ranked by.
/// </summary>
public sealed class ChannelAdviceTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    private static readonly string Workflow = Ids.Workflow(Guid.Parse("aaaaaaaa-2222-4000-8000-000000000001"));
    private const string Window = """window: { from: "2026-02-01T00:00:00Z", to: "2026-02-08T00:00:00Z" }""";

    private const string Plant = """
        INSERT INTO workflow_trace (org_id, workflow_id, channel, status, start_time, end_time)
        SELECT 'aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-2222-4000-8000-000000000001', c.channel,
               CASE WHEN g <= c.ok THEN 'completed' ELSE 'failed' END,
               '2026-02-02T00:00:00Z'::timestamptz + g * interval '1 minute',
               '2026-02-02T00:00:00Z'::timestamptz + g * interval '1 minute' + (c.base + g * 10) * interval '1 millisecond'
          FROM (VALUES ('web', 100, 90, 1000), ('voice', 100, 60, 3000), ('efax', 5, 5, 500)) c (channel, n, ok, base),
               generate_series(1, c.n) g
        """;

    /// <summary>The 95% Wilson score interval in percent, rounded as the API rounds it.</summary>
    private static (double Low, double High) Wilson(int completed, int finished)
    {
        const double z = 1.96;
        double n = finished, p = completed / n;
        var centre = p + z * z / (2 * n);
        var half = z * Math.Sqrt(p * (1 - p) / n + z * z / (4 * n * n));
        var scale = 1 + z * z / n;
        return (Math.Round(100 * (centre - half) / scale, 2), Math.Round(100 * (centre + half) / scale, 2));
    }

    [Fact]
    public async Task Channels_are_ranked_by_the_wilson_lower_bound_with_their_numbers()
    {
        await using (var conn = await api.Database.DataSource.OpenConnectionAsync())
        {
            await conn.ExecAsync(Plant);
            await conn.RefreshStatsRollupsAsync();
        }

        var response = await api.PostAsync($$"""
            { channelAdvice(workflowId: "{{Workflow}}", {{Window}}) {
                rank channel runs finished completed successRate successRateLow successRateHigh
                durationMs { min p50 max } explanation __typename } }
            """);

        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        var advice = response.Data.GetProperty("channelAdvice").EnumerateArray().ToList();
        Assert.Equal(["WEB", "EFAX", "VOICE"], advice.Select(a => a.GetProperty("channel").GetString()));
        Assert.Equal([1, 2, 3], advice.Select(a => a.GetProperty("rank").GetInt32()));
        foreach (var (channel, completed, finished) in new[] { ("WEB", 90, 100), ("EFAX", 5, 5), ("VOICE", 60, 100) })
        {
            var a = advice.Single(x => x.GetProperty("channel").GetString() == channel);
            var (low, high) = Wilson(completed, finished);
            Assert.Equal(finished, a.GetProperty("finished").GetInt64());
            Assert.Equal(completed, a.GetProperty("completed").GetInt64());
            Assert.Equal(Math.Round(100.0 * completed / finished, 2), a.GetProperty("successRate").GetDouble());
            Assert.Equal(low, a.GetProperty("successRateLow").GetDouble());
            Assert.Equal(high, a.GetProperty("successRateHigh").GetDouble());
            Assert.Contains($"{completed} of {finished} finished runs", a.GetProperty("explanation").GetString());
            Assert.Equal("ChannelAdvice", a.GetProperty("__typename").GetString());
        }
        var web = advice[0].GetProperty("durationMs");
        Assert.Equal(1010, web.GetProperty("min").GetInt64());
        Assert.Equal(2000, web.GetProperty("max").GetInt64());
        Assert.InRange(web.GetProperty("p50").GetDouble(), 1500 * 0.98, 1510 * 1.02);
        Assert.Single(response.Statements);
    }

    [Fact]
    public async Task Another_organisations_workflow_has_no_advice_and_bad_input_is_refused()
    {
        var foreign = await api.PostAsync(
            $$"""{ channelAdvice(workflowId: "{{Workflow}}", {{Window}}) { channel } }""", org: GraphApiFixture.OrgB);
        Assert.Equal(JsonValueKind.Array, foreign.Data.GetProperty("channelAdvice").ValueKind);
        Assert.Equal(0, foreign.Data.GetProperty("channelAdvice").GetArrayLength());

        var notAWorkflow = await api.PostAsync($$"""{ channelAdvice(workflowId: "{{Ids.Trace(1)}}") { channel } }""");
        Assert.Equal(["INVALID_ID"], notAWorkflow.ErrorCodes);
        Assert.Empty(notAWorkflow.Statements);
        var tooLong = await api.PostAsync(
            $$"""
            { channelAdvice(workflowId: "{{Workflow}}", window: { from: "2020-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z" }) { channel } }
            """);
        Assert.Equal(["STATS_WINDOW_TOO_LARGE"], tooLong.ErrorCodes);
        Assert.Empty(tooLong.Statements);
    }
}
