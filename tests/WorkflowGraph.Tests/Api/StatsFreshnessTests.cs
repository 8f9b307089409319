using System.Globalization;
using Microsoft.AspNetCore.Hosting;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Tests.Mutations;

namespace WorkflowGraph.Tests.Api;

/// <summary>The API with its statistics rollup job passing every second (<c>Analytics:RollupIntervalSeconds</c>).</summary>
public sealed class RollupJobApiFixture : GraphApiFixture
{
    protected override void ConfigureHost(IWebHostBuilder host) => host.UseSetting("Analytics:RollupIntervalSeconds", "1");
}

/// <summary>
/// The service's own rollup job: runs written through the SQL helpers (as a tenant, committed) are in traceStats and
/// stepStats after the job's next pass — the stated lag, one interval plus one pass — with the same answer as the raw
/// rows, and <c>extensions.stats.*.rollupsAsOf</c> says when that pass started. Nothing here calls the job itself; the
/// wait is for that pass, bounded at 60 s, never a fixed pause. A workflow of its own, so other tests' rows do not count.
/// </summary>
public sealed class StatsFreshnessTests(RollupJobApiFixture api) : IClassFixture<RollupJobApiFixture>
{
    private const string Group = "key { channel status nodeId } count countByStatus { status count } durationMs { min max p95 }";

    [Fact]
    public async Task Committed_runs_are_in_the_statistics_after_the_jobs_next_pass()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        DateTime committed;
        await using (var conn = await api.Database.DataSource.OpenConnectionAsync())
        {
            await conn.ExecAsync("BEGIN");
            await conn.BecomeTenantAsync(workflow.OrgId, GraphApiFixture.UserOf(workflow.OrgId));
            for (var run = 0; run < 6; run++)
            {
                var traceId = await conn.ScalarAsync<long>(
                    "SELECT start_workflow_execution($1, $2::workflow_channel, NULL, NULL, NULL)",
                    workflow.Id, run % 2 == 0 ? "web" : "voice");
                var stepId = await conn.ScalarAsync<long>(
                    "SELECT start_workflow_step($1, $2, 1, '{}'::jsonb)", traceId, workflow.Nodes[run % 3]);
                var end = run == 3 ? "failed" : "completed";
                await conn.ExecAsync("SELECT complete_workflow_step($1, $2::step_status, NULL, NULL)", stepId, end);
                if (run < 5) // the last run stays open
                    await conn.ExecAsync("SELECT complete_workflow_execution($1, $2::trace_status, NULL)", traceId, end);
            }
            await conn.ExecAsync("COMMIT");
            committed = await conn.ScalarAsync<DateTime>("SELECT clock_timestamp()");
        }

        var hour = DateTime.UtcNow.AddHours(-2);
        var since = hour.ToString("yyyy-MM-dd'T'HH:00:00'Z'", CultureInfo.InvariantCulture);
        var until = hour.AddHours(4).ToString("yyyy-MM-dd'T'HH:00:00'Z'", CultureInfo.InvariantCulture);
        var window = $"startTime: {{ gte: \"{since}\", lt: \"{until}\" }}";
        var workflowId = $"workflowId: {{ eq: \"{Ids.Workflow(workflow.Id)}\" }}";
        string Query(string filter) => $$"""
            {
              traceStats(where: { {{workflowId}}, {{window}} {{filter}} }, groupBy: [CHANNEL, STATUS]) {
                totalCount nodes { {{Group}} }
              }
              stepStats(where: { trace: { {{workflowId}} }, {{window}} {{filter}} }, groupBy: [NODE, STATUS]) {
                totalCount nodes { {{Group}} }
              }
            }
            """;

        var deadline = DateTime.UtcNow.AddSeconds(60);
        GraphResponse rollups;
        while (true)
        {
            rollups = await api.PostAsync(Query(""), org: workflow.OrgId);
            Assert.False(rollups.Body.TryGetProperty("errors", out var errors), errors.ToString());
            var stats = rollups.Body.GetProperty("extensions").GetProperty("stats");
            var asOf = new[] { "traceStats", "stepStats" }
                .Select(f => DateTime.Parse(stats.GetProperty(f).GetProperty("rollupsAsOf").GetString()!, CultureInfo.InvariantCulture,
                    DateTimeStyles.RoundtripKind).ToUniversalTime())
                .Min();
            if (asOf > committed)
                break;
            Assert.True(DateTime.UtcNow < deadline, $"no rollup pass started after the commit ({committed:O}) within 60 s");
            await Task.Delay(200);
        }

        var raw = await api.PostAsync(Query("rowId: { gte: 0 }"), org: workflow.OrgId);
        var source = raw.Body.GetProperty("extensions").GetProperty("stats").GetProperty("traceStats").GetProperty("source");
        Assert.Equal("RAW", source.GetString());
        var runs = raw.Data.GetProperty("traceStats").GetProperty("nodes").EnumerateArray();
        Assert.Equal(6, runs.Sum(n => n.GetProperty("count").GetInt32()));
        Assert.Equal(raw.Data.ToString(), rollups.Data.ToString());
    }
}
