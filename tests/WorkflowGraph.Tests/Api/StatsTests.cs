using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using WorkflowGraph.Querying;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Api;

/// <summary>
/// traceStats and stepStats over graph-data.sql (runs 2026-01-10 01:00 to 2026-01-11 02:00 UTC): the rollups and the raw
/// rows give the same groups, the measures agree with SQL over the raw rows, each organisation sees only its own, bad
/// input is refused before any SQL, and pages cover every group once.
/// </summary>
public sealed class StatsTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    private const string Window = """startTime: { gte: "2026-01-10T00:00:00Z", lt: "2026-01-12T00:00:00Z" }""";

    /// <summary>
    /// Narrows <see cref="Window"/> to 2026-01-10 00:00 to 2026-01-11 01:00 (its own lower bound is the looser one): one
    /// whole UTC day and an hour after it.
    /// </summary>
    private const string EdgeWindow = """and: [{ startTime: { gte: "2026-01-09T05:00:00Z", lt: "2026-01-11T01:00:00Z" } }]""";

    /// <summary>
    /// Narrows <see cref="Window"/> to 2026-01-10 00:00 to 2026-01-11 20:00: one whole UTC day, then the blocks of six hours
    /// from 00:00 and 06:00 and 12:00, then two hours.
    /// </summary>
    private const string BlockWindow = """and: [{ startTime: { gte: "2026-01-09T05:00:00Z", lt: "2026-01-11T20:00:00Z" } }]""";

    /// <summary>A condition the rollups cannot answer that every row meets: the same rows, from the raw tables.</summary>
    private const string EveryRowRaw = "rowId: { gte: 0 }";

    private const string Group = """
        key { workflowId channel status nodeId bucketStart } count countByStatus { status count } successRate
        durationMs { avg min max p50 p90 p95 p99 }
        """;

    private async Task<GraphResponse> OkAsync(string query, Guid? org = null)
    {
        var response = await api.PostAsync(query, org: org);
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        return response;
    }

    private static string Source(GraphResponse response, string field) =>
        response.Body.GetProperty("extensions").GetProperty("stats").GetProperty(field).GetProperty("source").GetString()!;

    public static TheoryData<string, string, string> Shapes => new()
    {
        { "traceStats", "groupBy: [WORKFLOW, CHANNEL]", "" },
        { "traceStats", "groupBy: [STATUS], bucket: { unit: DAY }", "" },
        { "traceStats", "groupBy: [CHANNEL], bucket: { unit: HOUR, timeZone: \"America/Chicago\" }", "channel: { in: [WEB, VOICE] }" },
        { "traceStats", "bucket: { unit: WEEK, timeZone: \"Europe/Berlin\" }, order: [{ durationMs: { p95: DESC } }]", "" },
        { "traceStats", "groupBy: [WORKFLOW], bucket: { unit: MONTH, timeZone: \"Asia/Tokyo\" }", "status: { neq: PENDING }" },
        { "stepStats", "groupBy: [NODE, STATUS]", "" },
        { "stepStats", "groupBy: [WORKFLOW, CHANNEL], bucket: { unit: DAY, timeZone: \"America/New_York\" }", "" },
        // a window that is not on UTC midnights: its whole day from the daily rollups, its edge hours from the hourly ones
        { "traceStats", "groupBy: [CHANNEL, STATUS], bucket: { unit: DAY }", EdgeWindow },
        { "stepStats", "groupBy: [NODE, STATUS]", EdgeWindow },
        // UTC buckets of a rollup row's own length take the row's start instead of date_trunc
        { "traceStats", "groupBy: [CHANNEL], bucket: { unit: HOUR }", EdgeWindow },
        { "stepStats", "groupBy: [NODE], bucket: { unit: DAY, timeZone: \"Etc/UTC\" }", EdgeWindow },
        // edge hours in whole blocks of six hours: from the folded blocks
        { "traceStats", "groupBy: [CHANNEL], bucket: { unit: DAY }", BlockWindow },
        { "stepStats", "groupBy: [NODE], order: [{ durationMs: { p50: ASC } }]", BlockWindow },
        { "stepStats", "groupBy: [NODE], order: [{ count: DESC }, { successRate: ASC }]",
            "trace: { workflowId: { eq: \"V29ya2Zsb3c6YWFhYWFhYWEtMjIyMi00MDAwLTgwMDAtMDAwMDAwMDAwMDAx\" } }" },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task Rollups_and_raw_rows_give_the_same_groups(string field, string arguments, string filter)
    {
        var rollup = await OkAsync(
            $"{{ {field}(where: {{ {Window} {filter} }}, {arguments}, first: 100) {{ totalCount nodes {{ {Group} }} }} }}");
        var raw = await OkAsync(
            $"{{ {field}(where: {{ {Window} {filter} {EveryRowRaw} }}, {arguments}, first: 100) {{ totalCount nodes {{ {Group} }} }} }}");

        Assert.Equal("ROLLUPS", Source(rollup, field));
        Assert.Equal("RAW", Source(raw, field));
        var groups = rollup.Data.GetProperty(field);
        Assert.True(groups.GetProperty("totalCount").GetInt32() > 0);
        Assert.Equal(groups.ToString(), raw.Data.GetProperty(field).ToString());
        Assert.Single(rollup.Statements);
    }

    [Fact]
    public async Task Measures_agree_with_sql_over_the_raw_rows()
    {
        var response = await OkAsync($$"""
            { traceStats(where: { {{Window}} }, groupBy: [CHANNEL]) { nodes { {{Group}} } } }
            """);
        await using var conn = await api.Database.DataSource.OpenConnectionAsync();
        var expected = await conn.RowsAsync("""
            SELECT upper(channel) AS channel, count(*) AS n, min(duration_ms) AS lo, max(duration_ms) AS hi,
                   avg(duration_ms)::float8 AS mean, percentile_disc(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95,
                   round(100.0 * count(*) FILTER (WHERE status = 'completed')
                         / count(*) FILTER (WHERE status NOT IN ('pending', 'active')), 2)::float8 AS rate,
                   count(*) FILTER (WHERE status = 'failed') AS failed
              FROM workflow_trace WHERE org_id = $1 GROUP BY channel ORDER BY channel
            """, GraphApiFixture.OrgA);
        var nodes = response.Data.GetProperty("traceStats").GetProperty("nodes").EnumerateArray()
            .ToDictionary(n => n.GetProperty("key").GetProperty("channel").GetString()!);
        Assert.Equal(expected.Select(e => (string)e["channel"]!).Order(), nodes.Keys.Order());
        foreach (var row in expected)
        {
            var node = nodes[(string)row["channel"]!];
            Assert.Equal((long)row["n"]!, node.GetProperty("count").GetInt64());
            Assert.Equal((double)row["rate"]!, node.GetProperty("successRate").GetDouble());
            var durations = node.GetProperty("durationMs");
            Assert.Equal((long)row["lo"]!, durations.GetProperty("min").GetInt64());
            Assert.Equal((long)row["hi"]!, durations.GetProperty("max").GetInt64());
            Assert.Equal((double)row["mean"]!, durations.GetProperty("avg").GetDouble(), 6);
            var p95 = (long)row["p95"]!;
            Assert.InRange(durations.GetProperty("p95").GetDouble(), p95 * 0.98, p95 * 1.02);
            var failed = node.GetProperty("countByStatus").EnumerateArray().Where(s => s.GetProperty("status").GetString() == "FAILED")
                .Select(s => s.GetProperty("count").GetInt64()).SingleOrDefault();
            Assert.Equal((long)row["failed"]!, failed);
            var key = node.GetProperty("key");
            Assert.Equal(JsonValueKind.Null, key.GetProperty("workflowId").ValueKind);
            Assert.Equal(JsonValueKind.Null, key.GetProperty("bucketStart").ValueKind);
        }
    }

    [Theory]
    [InlineData("bucket: { unit: DAY }", "", "daily")]
    [InlineData("bucket: { unit: MONTH, timeZone: \"Etc/UTC\" }", "", "daily")]
    [InlineData("groupBy: [CHANNEL]", EdgeWindow, "daily hourly")]
    [InlineData("bucket: { unit: HOUR }", "", "hourly")]
    [InlineData("bucket: { unit: DAY, timeZone: \"America/Chicago\" }", "", "hourly")]
    [InlineData("groupBy: [CHANNEL]", """or: [{ startTime: { lt: "2026-01-10T12:00:00Z" } }, { channel: { eq: WEB } }]""",
        "hourly")]
    [InlineData("groupBy: [STATUS], bucket: { unit: DAY }", "", "daily")]
    [InlineData("groupBy: [CHANNEL, STATUS]", EdgeWindow, "daily hourly")]
    [InlineData("groupBy: [STATUS], bucket: { unit: HOUR }", "", "hourly")]
    [InlineData("groupBy: [CHANNEL]", BlockWindow, "daily block hourly")]
    [InlineData("groupBy: [CHANNEL, STATUS]", BlockWindow, "daily hourly")]
    public async Task Whole_utc_days_are_read_from_the_daily_rollups_and_the_rest_from_the_hourly_ones(
        string arguments, string filter, string periods)
    {
        var response = await OkAsync($"{{ traceStats(where: {{ {Window} {filter} }}, {arguments}) {{ nodes {{ count }} }} }}");
        // the rows per status by their tables, the folded ones (db/migrations/054) by their period
        Assert.Equal(periods, string.Join(" ", System.Text.RegularExpressions.Regex.Matches(
                response.Statements.Single(), @"trace_stats_(daily|hourly)|\.hours = (24|6|1)\b")
            .Select(m => m.Value switch
            {
                "trace_stats_daily" or ".hours = 24" => "daily",
                ".hours = 6" => "block",
                _ => "hourly",
            })));
    }

    [Theory]
    [InlineData("traceStats", "groupBy: [CHANNEL], bucket: { unit: DAY }", "", "trace_stats_folded kept 2")]
    [InlineData("traceStats", "groupBy: [WORKFLOW]", EdgeWindow, "trace_stats_folded kept 1")]
    [InlineData("traceStats", "groupBy: [WORKFLOW, CHANNEL]", "", "trace_stats_folded kept 3")]
    [InlineData("traceStats", "bucket: { unit: HOUR }", "", "trace_stats_folded kept 0")]
    [InlineData("traceStats", "groupBy: [CHANNEL]",
        "workflowId: { in: [\"V29ya2Zsb3c6YWFhYWFhYWEtMjIyMi00MDAwLTgwMDAtMDAwMDAwMDAwMDAx\"] }", "trace_stats_folded kept 3")]
    [InlineData("traceStats", "groupBy: [STATUS]", "", "trace_stats_daily")]
    [InlineData("traceStats", "groupBy: [CHANNEL]", "status: { neq: PENDING }", "trace_stats_daily")]
    [InlineData("stepStats", "groupBy: [NODE], order: [{ durationMs: { p95: DESC } }]",
        "trace: { workflowId: { eq: \"V29ya2Zsb3c6YWFhYWFhYWEtMjIyMi00MDAwLTgwMDAtMDAwMDAwMDAwMDAx\" } }", "step_stats_folded kept 5")]
    [InlineData("stepStats", "groupBy: [CHANNEL], bucket: { unit: DAY }", EdgeWindow, "step_stats_folded kept 2")]
    [InlineData("stepStats", "groupBy: [WORKFLOW, CHANNEL]", "", "step_stats_folded kept 3")]
    [InlineData("stepStats", "groupBy: [NODE]", "trace: { channel: { eq: WEB } }", "step_stats_daily")]
    [InlineData("stepStats", "groupBy: [NODE, STATUS]", "", "step_stats_daily")]
    public async Task Pages_without_status_read_the_smallest_folded_set_keeping_their_dimensions_with_the_raw_rows_answer(
        string field, string arguments, string filter, string read)
    {
        var rollup = await OkAsync(
            $"{{ {field}(where: {{ {Window} {filter} }}, {arguments}, first: 100) {{ totalCount nodes {{ {Group} }} }} }}");
        var raw = await OkAsync(
            $"{{ {field}(where: {{ {Window} {filter} {EveryRowRaw} }}, {arguments}, first: 100) {{ totalCount nodes {{ {Group} }} }} }}");

        var sql = rollup.Statements.Single();
        var set = System.Text.RegularExpressions.Regex.Match(sql, @"\.kept = (\d)");
        var table = System.Text.RegularExpressions.Regex.Match(sql, @"(trace|step)_stats_(folded|daily|hourly)").Value;
        Assert.Equal(read, set.Success ? $"{table} kept {set.Groups[1].Value}" : table);
        Assert.Equal("RAW", Source(raw, field));
        Assert.True(rollup.Data.GetProperty(field).GetProperty("totalCount").GetInt32() > 0);
        Assert.Equal(raw.Data.GetProperty(field).ToString(), rollup.Data.GetProperty(field).ToString());
    }

    [Theory]
    [InlineData("stepStats", "groupBy: [NODE]", "", "week day day hour")]
    [InlineData("traceStats", "groupBy: [CHANNEL], bucket: { unit: WEEK }", "", "week day day hour")]
    [InlineData("traceStats", "groupBy: [WORKFLOW]", """or: [{ startTime: { lt: "2026-01-10T00:00:00Z" } }, { channel: { eq: WEB } }]""",
        "day hour")]
    [InlineData("traceStats", "groupBy: [CHANNEL], bucket: { unit: DAY }", "", "day hour")]
    [InlineData("traceStats", "groupBy: [STATUS]", "", "day hour")]
    public async Task Whole_utc_weeks_of_folded_pages_are_read_from_the_weekly_rows_with_the_raw_rows_answer(
        string field, string arguments, string filter, string periods)
    {
        // Thursday 2026-01-01 to Thursday 2026-01-22 01:00: the weeks from Monday 5 and 12, the days before and after them,
        // an hour after the last day
        const string weeks = """startTime: { gte: "2026-01-01T00:00:00Z", lt: "2026-01-22T01:00:00Z" }""";
        var rollup = await OkAsync(
            $"{{ {field}(where: {{ {weeks} {filter} }}, {arguments}, first: 100) {{ totalCount nodes {{ {Group} }} }} }}");
        var raw = await OkAsync(
            $"{{ {field}(where: {{ {weeks} {filter} {EveryRowRaw} }}, {arguments}, first: 100) {{ totalCount nodes {{ {Group} }} }} }}");

        Assert.Equal(periods, string.Join(" ", System.Text.RegularExpressions.Regex.Matches(
                rollup.Statements.Single(), @"_stats_(daily|hourly)\b|\.hours = (168|24|1)\b")
            .Select(m => m.Value switch
            {
                ".hours = 168" => "week",
                ".hours = 24" or "_stats_daily" => "day",
                _ => "hour",
            })));
        Assert.Equal("RAW", Source(raw, field));
        Assert.True(rollup.Data.GetProperty(field).GetProperty("totalCount").GetInt32() > 0);
        Assert.Equal(raw.Data.GetProperty(field).ToString(), rollup.Data.GetProperty(field).ToString());
    }

    [Fact]
    public async Task Day_buckets_follow_the_time_zone()
    {
        // 2026-01-10 01:00 UTC to 2026-01-11 02:00 UTC is 2026-01-09 19:00 to 2026-01-10 20:00 in Chicago (UTC-6)
        var response = await OkAsync($$"""
            { traceStats(where: { {{Window}} }, bucket: { unit: DAY, timeZone: "America/Chicago" }) {
                nodes { key { bucketStart } count } } }
            """);
        var nodes = response.Data.GetProperty("traceStats").GetProperty("nodes").EnumerateArray().ToList();
        Assert.Equal(
            ["2026-01-09T06:00:00+00:00", "2026-01-10T06:00:00+00:00"],
            nodes.Select(n => n.GetProperty("key").GetProperty("bucketStart").GetString()));
        await using var conn = await api.Database.DataSource.OpenConnectionAsync();
        var first = await conn.ScalarAsync<long>(
            "SELECT count(*) FROM workflow_trace WHERE org_id = $1 AND start_time < '2026-01-10T06:00:00Z'", GraphApiFixture.OrgA);
        Assert.Equal(first, nodes[0].GetProperty("count").GetInt64());
    }

    [Theory]
    [InlineData("externalId: { startsWith: \"EXT\" }", "", "externalId")]
    [InlineData("and: [{ startTime: { gte: \"2026-01-10T00:30:00Z\" } }]", "", "whole hour")]
    [InlineData("", "bucket: { unit: DAY, timeZone: \"Asia/Kolkata\" }", "Asia/Kolkata")]
    [InlineData("workflow: { name: { eq: \"Eligibility Check\" } }", "", "related rows")]
    public async Task A_filter_the_rollups_cannot_answer_is_answered_from_the_raw_rows_and_says_why(
        string filter, string bucket, string reason)
    {
        var response = await OkAsync(
            $"{{ traceStats(where: {{ {Window} {filter} }}{(bucket.Length > 0 ? ", " + bucket : "")}) " +
            "{ totalCount nodes { count } } }");
        var stats = response.Body.GetProperty("extensions").GetProperty("stats").GetProperty("traceStats");
        Assert.Equal("RAW", stats.GetProperty("source").GetString());
        Assert.Contains(reason, stats.GetProperty("reason").GetString());
        Assert.True(response.Data.GetProperty("traceStats").GetProperty("totalCount").GetInt32() > 0);
    }

    [Fact]
    public async Task Each_organisation_counts_only_its_own_runs_and_steps()
    {
        await using var conn = await api.Database.DataSource.OpenConnectionAsync();
        foreach (var org in new[] { GraphApiFixture.OrgA, GraphApiFixture.OrgB })
        {
            var response = await OkAsync($$"""
                {
                  traceStats(where: { {{Window}} }, groupBy: [WORKFLOW]) { nodes { key { workflowId } count } }
                  stepStats(where: { {{Window}} }, groupBy: [NODE]) { nodes { key { nodeId } count } }
                }
                """, org);
            var workflows = await conn.RowsAsync(
                "SELECT workflow_id, count(*) AS n FROM workflow_trace WHERE org_id = $1 GROUP BY 1", org);
            var runs = response.Data.GetProperty("traceStats").GetProperty("nodes").EnumerateArray()
                .ToDictionary(n => n.GetProperty("key").GetProperty("workflowId").GetString()!, n => n.GetProperty("count").GetInt64());
            Assert.Equal(workflows.ToDictionary(w => Ids.Workflow((Guid)w["workflow_id"]!), w => (long)w["n"]!), runs);
            var nodes = await conn.RowsAsync("SELECT node_id, count(*) AS n FROM workflow_steps WHERE org_id = $1 GROUP BY 1", org);
            var steps = response.Data.GetProperty("stepStats").GetProperty("nodes").EnumerateArray()
                .ToDictionary(n => n.GetProperty("key").GetProperty("nodeId").GetString()!, n => n.GetProperty("count").GetInt64());
            Assert.Equal(nodes.ToDictionary(w => Ids.Node((int)w["node_id"]!), w => (long)w["n"]!), steps);
        }
        // another organisation's workflow in the filter matches nothing
        var foreign = Ids.Workflow(Guid.Parse("bbbbbbbb-2222-4000-8000-000000000001"));
        var none = await OkAsync($$"""
            { traceStats(where: { {{Window}} workflowId: { eq: "{{foreign}}" } }) { totalCount nodes { count } } }
            """, GraphApiFixture.OrgA);
        Assert.Equal(0, none.Data.GetProperty("traceStats").GetProperty("totalCount").GetInt32());
    }

    [Fact]
    public async Task Pages_cover_every_group_once_in_order()
    {
        var all = await OkAsync($$"""
            { stepStats(where: { {{Window}} }, groupBy: [NODE, STATUS], first: 100, order: [{ count: DESC }]) {
                totalCount nodes { key { nodeId status } count } } }
            """);
        var expected = all.Data.GetProperty("stepStats").GetProperty("nodes").EnumerateArray().Select(n => n.ToString()).ToList();
        Assert.Equal(expected.Count, all.Data.GetProperty("stepStats").GetProperty("totalCount").GetInt32());
        Assert.True(expected.Count > 4);
        var paged = new List<string>();
        string? after = null;
        for (var page = 0; page < 20; page++)
        {
            var response = await OkAsync($$"""
                { stepStats(where: { {{Window}} }, groupBy: [NODE, STATUS], first: 3{{(after is null ? "" : $", after: \"{after}\"")}},
                    order: [{ count: DESC }]) {
                  pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { key { nodeId status } count } } } }
                """);
            var connection = response.Data.GetProperty("stepStats");
            paged.AddRange(connection.GetProperty("edges").EnumerateArray().Select(e => e.GetProperty("node").ToString()));
            var info = connection.GetProperty("pageInfo");
            Assert.Equal(after is not null, info.GetProperty("hasPreviousPage").GetBoolean());
            if (!info.GetProperty("hasNextPage").GetBoolean())
                break;
            after = info.GetProperty("endCursor").GetString();
        }
        Assert.Equal(expected, paged);
    }

    [Fact]
    public async Task Rows_falling_into_more_groups_than_allowed_are_refused_while_they_are_read()
    {
        const string query = $$"""
            { stepStats(where: { {{Window}} }, groupBy: [NODE, STATUS], first: 100) { totalCount nodes { count } } }
            """;
        var groups = (await OkAsync(query)).Data.GetProperty("stepStats").GetProperty("totalCount").GetInt32();
        Assert.True(groups > 4);
        var limits = api.Services.GetRequiredService<QueryLimits>();
        var allowed = limits.MaxStatsGroups;
        try
        {
            limits.MaxStatsGroups = groups;
            Assert.Equal(groups, (await OkAsync(query)).Data.GetProperty("stepStats").GetProperty("totalCount").GetInt32());
            limits.MaxStatsGroups = groups - 1;
            var refused = await api.PostAsync(query);
            Assert.Equal(["STATS_TOO_MANY_GROUPS"], refused.ErrorCodes);
            // stepStats is non-null: the error nulls the data
            Assert.Equal(JsonValueKind.Null, refused.Data.ValueKind);
        }
        finally
        {
            limits.MaxStatsGroups = allowed;
        }
    }

    [Theory]
    [InlineData("traceStats(where: { startTime: { gte: \"2026-01-10T00:00:00Z\" } })", "STATS_WINDOW_REQUIRED")]
    [InlineData(
        "traceStats(where: { or: [{ startTime: { gte: \"2026-01-10T00:00:00Z\" } }, { startTime: { lt: \"2026-02-10T00:00:00Z\" } }] })",
        "STATS_WINDOW_REQUIRED")]
    [InlineData("traceStats(where: { startTime: { gte: \"2024-01-10T00:00:00Z\", lt: \"2026-01-10T00:00:00Z\" } })",
        "STATS_WINDOW_TOO_LARGE")]
    [InlineData("traceStats(where: { " + Window + " }, bucket: { unit: DAY, timeZone: \"Mars/Olympus_Mons\" })", "INVALID_TIME_ZONE")]
    [InlineData("traceStats(where: { " + Window + " }, bucket: { unit: DAY, timeZone: \"+05:00\" })", "INVALID_TIME_ZONE")]
    [InlineData("traceStats(where: { startTime: { gte: \"2026-01-01T00:00:00Z\", lt: \"2026-03-01T00:00:00Z\" } }, bucket: { unit: HOUR })",
        "STATS_TOO_MANY_GROUPS")]
    [InlineData("traceStats(where: { " + Window + " }, groupBy: [NODE])", "INVALID_GROUP_BY")]
    [InlineData("traceStats(where: { " + Window + " }, order: [{ key: { channel: ASC } }])", "INVALID_FILTER")]
    [InlineData("traceStats(where: { " + Window + " }, after: \"bm90LWEtY3Vyc29y\")", "INVALID_CURSOR")]
    [InlineData("stepStats(where: { " + Window + " }, first: 1000)", "PAGE_SIZE_EXCEEDED")]
    public async Task Bad_input_is_refused_with_a_code_before_any_sql(string field, string code)
    {
        var response = await api.PostAsync($"{{ {field} {{ nodes {{ count }} }} }}");
        Assert.Equal([code], response.ErrorCodes);
        Assert.Empty(response.Statements);
    }
}
