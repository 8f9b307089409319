using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using WorkflowGraph.Retention;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Mutations;

namespace WorkflowGraph.Tests.Retention;

/// <summary>The API with retention archiving into a directory of the fixture's own.</summary>
public sealed class ArchiveFixture : GraphApiFixture
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "wg-archive-" + Guid.NewGuid().ToString("N"));
    public string Exports { get; } = Path.Combine(Path.GetTempPath(), "wg-exports-" + Guid.NewGuid().ToString("N"));

    protected override void ConfigureHost(IWebHostBuilder host) => host
        .UseSetting("Export:PollSeconds", "0")
        .UseSetting("Export:Directory", Exports)
        .UseSetting("Retention:ArchiveDirectory", Directory);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        foreach (var folder in new[] { Directory, Exports })
            if (System.IO.Directory.Exists(folder))
                System.IO.Directory.Delete(folder, recursive: true);
    }
}

/// <summary>
/// Archival before retention: what cleanupOldExecutionData deletes is first written to Parquet (one file per organisation
/// and month) and reads back as it was; an archive that cannot be written deletes nothing.
/// </summary>
public sealed class RetentionArchiveTests(ArchiveFixture api) : IClassFixture<ArchiveFixture>
{
    private const string Cleanup = """
        mutation { cleanupOldExecutionData(input: { retentionDays: 90 }) { tracesDeleted stepsDeleted contextDeleted eventsDeleted
                   errors { __typename } } }
        """;

    /// <summary>What the service's cleanup of an organisation deletes, row by row, as row_to_json writes it.</summary>
    private const string DoomedRows = """
        WITH d AS (SELECT id FROM workflow_trace WHERE org_id = $1 AND status NOT IN ('pending', 'active')
                                                   AND end_time < now() - interval '90 days')
        SELECT 'workflow_trace' || ' ' || row_to_json(t)::text FROM workflow_trace t WHERE t.id IN (SELECT id FROM d)
        UNION ALL SELECT 'workflow_steps' || ' ' || row_to_json(s)::text FROM workflow_steps s WHERE s.trace_id IN (SELECT id FROM d)
        UNION ALL SELECT 'workflow_trace_context' || ' ' || row_to_json(c)::text FROM workflow_trace_context c
                   WHERE c.trace_id IN (SELECT id FROM d)
        UNION ALL SELECT 'workflow_events' || ' ' || row_to_json(e)::text FROM workflow_events e WHERE e.trace_id IN (SELECT id FROM d)
        """;

    /// <summary>Finished runs that ended <paramref name="daysAgo"/> days ago, each with a step, context (a planted value) and
    /// events.</summary>
    private static async Task<long[]> OldRunsAsync(GraphApiFixture api, Guid org, string secret, params int[] daysAgo)
    {
        var workflow = await FreshWorkflow.CreateAsync(api, org);
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        var runs = new List<long>();
        foreach (var days in daysAgo)
        {
            var run = await conn.ScalarAsync<long>("SELECT start_workflow_execution($1, 'web', NULL, '{\"plan\": \"gold\"}', NULL)",
                workflow.Id);
            var step = await conn.ScalarAsync<long>("SELECT start_workflow_step($1, $2, 1, '{\"x\": 1}')", run, workflow.Nodes[0]);
            await conn.ExecAsync("SELECT complete_workflow_step($1, 'completed', '{\"y\": 2}', NULL)", step);
            await conn.ExecAsync("SELECT set_workflow_context($1, 'patient', to_jsonb($2::text))", run, secret);
            await conn.ExecAsync("SELECT complete_workflow_execution($1, 'completed', NULL)", run);
            var shift = TimeSpan.FromDays(days);
            await conn.ExecAsync("UPDATE workflow_trace SET start_time = start_time - $2, end_time = end_time - $2 WHERE id = $1",
                run, shift);
            await conn.ExecAsync("UPDATE workflow_steps SET start_time = start_time - $2, end_time = end_time - $2 WHERE trace_id = $1",
                run, shift);
            await conn.ExecAsync("UPDATE workflow_events SET created_at = created_at - $2 WHERE trace_id = $1", run, shift);
            runs.Add(run);
        }
        return [.. runs];
    }

    private static async Task<HashSet<string>> DoomedAsync(GraphApiFixture api, Guid org)
    {
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        return [.. (await conn.RowsAsync(DoomedRows, org)).Select(r => (string)r.Values.Single()!)];
    }

    [Fact]
    public async Task What_retention_deletes_is_archived_first_and_reads_back_as_it_was()
    {
        var secret = "archived-" + Guid.NewGuid().ToString("N");
        var runs = await OldRunsAsync(api, GraphApiFixture.OrgA, secret, 200, 260, 320);
        var before = await DoomedAsync(api, GraphApiFixture.OrgA);
        Assert.True(before.Count >= 3 * 5);

        var response = await api.PostAsync(Cleanup, org: GraphApiFixture.OrgA);
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        var payload = response.Data.GetProperty("cleanupOldExecutionData");
        Assert.Equal(JsonValueKind.Null, payload.GetProperty("errors").ValueKind);
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        Assert.Equal(0L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_trace WHERE id = ANY ($1)", runs));

        var files = Directory.GetFiles(Path.Combine(api.Directory, GraphApiFixture.OrgA.ToString("D")), "*.parquet");
        var rows = new List<ArchivedRow>();
        foreach (var file in files)
            rows.AddRange(await ArchiveFile.ReadAsync(file));
        // every row deleted is in the archive, as it was, and nothing else
        Assert.Equal(before.Order(StringComparer.Ordinal), rows.Select(r => r.Table + " " + r.Row).Order(StringComparer.Ordinal));
        Assert.Equal(payload.GetProperty("tracesDeleted").GetInt64(), rows.Count(r => r.Table == "workflow_trace"));
        Assert.Equal(payload.GetProperty("eventsDeleted").GetInt64(), rows.Count(r => r.Table == "workflow_events"));
        // one file per month the runs ended in; the archive is the record, PHI included
        Assert.Equal(files.Length, files.Select(f => Path.GetFileName(f)[..12]).Distinct().Count());
        Assert.True(files.Length >= 3);
        Assert.Contains(rows, r => r.Row.Contains(secret, StringComparison.Ordinal));
        Assert.Empty(Directory.GetFiles(api.Directory, "*.partial", SearchOption.AllDirectories));

        // the documented command prints the rows as JSON Lines
        using var output = new StringWriter();
        Assert.Equal(0, await ArchiveFile.ReadCommandAsync(files[0], output));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal((await ArchiveFile.ReadAsync(files[0])).Count, lines.Length);
        Assert.All(lines, line => Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(line).RootElement.GetProperty("row").ValueKind));
    }

    [Fact]
    public async Task An_archive_that_cannot_be_written_deletes_nothing()
    {
        var runs = await OldRunsAsync(api, GraphApiFixture.OrgB, "kept", 200);
        var before = await DoomedAsync(api, GraphApiFixture.OrgB);
        // the organisation's archive folder cannot be created: a file stands in its place
        Directory.CreateDirectory(api.Directory);
        var blocked = Path.Combine(api.Directory, GraphApiFixture.OrgB.ToString("D"));
        await File.WriteAllTextAsync(blocked, "not a folder");

        var archives = Directory.GetFiles(api.Directory, "*", SearchOption.AllDirectories).Length;

        var response = await api.PostAsync(Cleanup, org: GraphApiFixture.OrgB);
        Assert.Contains(RetentionArchive.FailedCode, response.ErrorCodes);
        Assert.Equal(before, await DoomedAsync(api, GraphApiFixture.OrgB));
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        Assert.Equal(runs.Length, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_trace WHERE id = ANY ($1)", runs));
        Assert.Equal(archives, Directory.GetFiles(api.Directory, "*", SearchOption.AllDirectories).Length);
        File.Delete(blocked);
    }
}
