using System.Net;
using System.Text;
using System.Text.Json;
using Parquet.Serialization;
using WorkflowGraph.Exports;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Tests.Mutations;
using WorkflowGraph.Tests.Phi;
using static WorkflowGraph.Tests.Mutations.PayloadErrors;

namespace WorkflowGraph.Tests.Exports;

/// <summary>
/// exportTraces end to end against a real database: the job, the worker's pass, the file through the download endpoint.
/// A de-identified file holds none of the planted identifiers (whole bytes scanned, and the decoded Parquet values);
/// pseudonyms are stable within an organisation and differ across organisations; another organisation, or a user who is
/// neither the requester nor an admin, cannot see the job or the file; bounds and scope are refused with nothing written.
/// </summary>
public sealed class ExportTests(ExportFixture api) : IClassFixture<ExportFixture>
{
    private static async Task<IReadOnlyList<string>> DecodedTextsAsync(string format, byte[] file)
    {
        if (format == "JSONL")
            return [Encoding.UTF8.GetString(file)];
        using var stream = new MemoryStream(file);
        var runs = (await ParquetSerializer.DeserializeAsync<ExportedRun>(stream)).Data;
        return [.. runs.Select(r => JsonSerializer.Serialize(r))];
    }

    /// <summary>The run documents of a file: JSON Lines parsed, or Parquet rows with their JSON columns parsed.</summary>
    private static async Task<List<JsonElement>> RunsAsync(string format, byte[] file)
    {
        if (format == "JSONL")
            return [.. Encoding.UTF8.GetString(file).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => JsonDocument.Parse(l).RootElement)];
        using var stream = new MemoryStream(file);
        var runs = (await ParquetSerializer.DeserializeAsync<ExportedRun>(stream)).Data;
        return [.. runs.Select(r => JsonDocument.Parse(JsonSerializer.Serialize(new
        {
            id = r.Id, externalId = r.ExternalId, configSnapshot = JsonDocument.Parse(r.ConfigSnapshot ?? "null").RootElement,
            steps = JsonDocument.Parse(r.Steps).RootElement, context = JsonDocument.Parse(r.Context).RootElement,
            events = JsonDocument.Parse(r.Events).RootElement,
        })).RootElement)];
    }

    private async Task<(JsonElement Job, byte[] File)> ExportAsync(PhiWorld world, string format, bool deidentify = true,
        string? scope = null)
    {
        var job = await api.RequestAsync(world.Workflow.OrgId, world.Workflow.Id, format, deidentify, scope);
        Assert.Equal("PENDING", job.GetProperty("status").GetString());
        await api.Worker.RunPassAsync(CancellationToken.None);
        var done = await api.JobAsync(world.Workflow.OrgId, job.GetProperty("id").GetString()!);
        Assert.Equal("COMPLETED", done.GetProperty("status").GetString());
        Assert.Equal(1, done.GetProperty("runsWritten").GetInt32());
        Assert.Equal(3, done.GetProperty("stepsWritten").GetInt32());
        Assert.Equal(2, done.GetProperty("contextWritten").GetInt32());
        Assert.True(done.GetProperty("eventsWritten").GetInt32() >= 5);
        var (status, file) = await api.DownloadAsync(done.GetProperty("downloadUrl").GetString()!, world.Workflow.OrgId,
            GraphApiFixture.UserOf(world.Workflow.OrgId));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(done.GetProperty("bytes").GetInt64(), file.LongLength);
        return (done, file);
    }

    private static async Task<string?> FirstMemberIdAsync(byte[] file) =>
        (await RunsAsync("JSONL", file))[0].GetProperty("steps")[0].GetProperty("inputData").GetProperty("memberId").GetString();

    /// <summary>The instance holding the job went away: its lease ran out.</summary>
    private static Task ExpireLeaseAsync(Npgsql.NpgsqlConnection conn, long jobId) =>
        conn.ExecAsync("UPDATE export_jobs SET lease_expires_at = clock_timestamp() - interval '1 second' WHERE id = $1", jobId);

    private static async Task<string> PseudonymAsync(ExportFixture api, Guid org, string value)
    {
        await using var conn = await api.Database.DataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await conn.BecomeTenantAsync(org);
        return await conn.ScalarAsync<string>("SELECT phi_pseudonym($1, phi_pseudonym_pads())", value);
    }

    [Theory]
    [InlineData("JSONL")]
    [InlineData("PARQUET")]
    public async Task A_de_identified_export_holds_no_planted_identifier(string format)
    {
        var world = await PhiWorld.CreateAsync(api);
        var (_, file) = await ExportAsync(world, format);

        var bytes = Encoding.Latin1.GetString(file);
        var decoded = await DecodedTextsAsync(format, file);
        foreach (var planted in world.Planted)
        {
            Assert.DoesNotContain(planted, bytes, StringComparison.Ordinal);
            Assert.All(decoded, text => Assert.DoesNotContain(planted, text, StringComparison.Ordinal));
        }
        // what is not PHI stays as it is: a NONE field, the data of a node without PHI fields, an unclassified context key
        Assert.Contains(decoded, text => text.Contains(world.Payer, StringComparison.Ordinal));
        Assert.Contains(decoded, text => text.Contains(world.Plain, StringComparison.Ordinal));

        var run = Assert.Single(await RunsAsync(format, file));
        Assert.Equal(world.TraceId, run.GetProperty("id").GetInt64());
        var memberId = await PseudonymAsync(api, world.Workflow.OrgId, world.MemberId);
        var steps = run.GetProperty("steps");
        // the same value reads as the same pseudonym wherever it occurs in the organisation's data
        Assert.Equal(memberId, steps[0].GetProperty("inputData").GetProperty("memberId").GetString());
        Assert.Equal(memberId, steps[1].GetProperty("inputData").GetProperty("memberId").GetString());
        Assert.Equal(world.Payer, steps[0].GetProperty("inputData").GetProperty("payer").GetString());
        Assert.Equal(await PseudonymAsync(api, world.Workflow.OrgId, world.ExternalId), run.GetProperty("externalId").GetString());
        Assert.Equal(await PseudonymAsync(api, world.Workflow.OrgId, world.MemberDob),
            run.GetProperty("configSnapshot").GetProperty("memberDob").GetString());
        Assert.Equal("gold", run.GetProperty("configSnapshot").GetProperty("plan").GetString());
        var context = run.GetProperty("context").EnumerateArray()
            .ToDictionary(c => c.GetProperty("key").GetString()!, c => c.GetProperty("value"));
        Assert.Equal(await PseudonymAsync(api, world.Workflow.OrgId, world.PatientName), context["patientName"].GetString());
        Assert.Equal(world.Payer, context["batch"].GetString());
    }

    [Fact]
    public async Task Pseudonyms_are_stable_within_an_organisation_and_differ_across_organisations()
    {
        var inA = await PhiWorld.CreateAsync(api, GraphApiFixture.OrgA);
        var (_, first) = await ExportAsync(inA, "JSONL");
        var (_, second) = await ExportAsync(inA, "JSONL");
        var memberA = await FirstMemberIdAsync(first);
        Assert.Equal(memberA, await FirstMemberIdAsync(second));
        Assert.StartsWith("pseu_", memberA, StringComparison.Ordinal);

        // the same value in another organisation: another secret, another pseudonym
        var inB = await PhiWorld.CreateAsync(api, GraphApiFixture.OrgB);
        var (_, other) = await ExportAsync(inB, "JSONL");
        var memberB = await FirstMemberIdAsync(other);
        Assert.Equal(await PseudonymAsync(api, GraphApiFixture.OrgB, inB.MemberId), memberB);
        Assert.NotEqual(await PseudonymAsync(api, GraphApiFixture.OrgA, inB.MemberId), memberB);
        Assert.NotEqual(await PseudonymAsync(api, GraphApiFixture.OrgA, "same value"),
            await PseudonymAsync(api, GraphApiFixture.OrgB, "same value"));

        // the secrets are closed to the service role
        await using var conn = await api.Database.DataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await conn.BecomeTenantAsync(GraphApiFixture.OrgA);
        Assert.Equal("42501", (await conn.FailsAsync("SELECT count(*) FROM phi_pseudonym_keys")).SqlState);
    }

    [Fact]
    public async Task Another_organisation_or_a_user_who_is_neither_requester_nor_admin_cannot_see_the_job_or_the_file()
    {
        var world = await PhiWorld.CreateAsync(api, GraphApiFixture.OrgA);
        var (job, _) = await ExportAsync(world, "JSONL");
        var id = job.GetProperty("id").GetString()!;
        var path = job.GetProperty("downloadUrl").GetString()!;

        Assert.Equal(JsonValueKind.Null, (await api.JobAsync(GraphApiFixture.OrgB, id)).ValueKind);
        var list = await api.PostAsync("{ exportJobs { nodes { id } } }", org: GraphApiFixture.OrgB);
        Assert.DoesNotContain(id,
            list.Data.GetProperty("exportJobs").GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("id").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await api.DownloadAsync(path, GraphApiFixture.OrgB, GraphApiFixture.UserB)).Status);
        // the same organisation: another user who is not an admin gets nothing; another admin gets the file
        Assert.Equal(HttpStatusCode.NotFound,
            (await api.DownloadAsync(path, GraphApiFixture.OrgA, Guid.NewGuid(), TenantRole.Operator)).Status);
        Assert.Equal(HttpStatusCode.OK, (await api.DownloadAsync(path, GraphApiFixture.OrgA, Guid.NewGuid(), TenantRole.Admin)).Status);
        Assert.Equal(HttpStatusCode.OK,
            (await api.DownloadAsync(path, GraphApiFixture.OrgA, GraphApiFixture.UserA, TenantRole.Viewer)).Status);
        using (var anonymous = new HttpRequestMessage(HttpMethod.Get, path))
            Assert.Equal(HttpStatusCode.Unauthorized, (await api.Client.SendAsync(anonymous)).StatusCode);

        // only admins request exports and read their jobs
        var asOperator = await api.PostAsync(ExportFixture.Export,
            new { where = new { workflowId = new { eq = Ids.Workflow(world.Workflow.Id) } } }, role: TenantRole.Operator);
        Assert.Contains("FORBIDDEN", asOperator.ErrorCodes);
        Assert.Contains("FORBIDDEN", (await api.PostAsync(ExportFixture.Job, new { id }, role: TenantRole.Operator)).ErrorCodes);
        Assert.Contains("FORBIDDEN", (await api.PostAsync("{ exportJobs { totalCount } }", role: TenantRole.Viewer)).ErrorCodes);
    }

    [Fact]
    public async Task A_filter_over_the_bound_is_refused_with_nothing_written()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        await conn.ExecAsync("INSERT INTO workflow_trace (org_id, workflow_id, channel, status, start_time) " +
                             "SELECT $1, $2, 'web', 'pending', now() FROM generate_series(1, $3)", workflow.OrgId, workflow.Id,
            ExportFixture.MaxExportRuns + 1);
        var jobs = await conn.ScalarAsync<long>("SELECT count(*) FROM export_jobs");
        var files = api.Files().Count;

        var where = new { workflowId = new { eq = Ids.Workflow(workflow.Id) } };
        var response = await api.PostAsync(ExportFixture.Export, new { where });
        var payload = response.Data.GetProperty("exportTraces");
        Assert.Equal("ValidationError", ErrorType(payload));
        Assert.Equal("where", ErrorField(payload));
        Assert.Equal(JsonValueKind.Null, payload.GetProperty("job").ValueKind);
        await api.Worker.RunPassAsync(CancellationToken.None);
        Assert.Equal(jobs, await conn.ScalarAsync<long>("SELECT count(*) FROM export_jobs"));
        Assert.Equal(files, api.Files().Count);

        // at the bound it is accepted
        await conn.ExecAsync("DELETE FROM workflow_trace WHERE id = (SELECT max(id) FROM workflow_trace WHERE workflow_id = $1)",
            workflow.Id);
        var job = await api.RequestAsync(workflow.OrgId, workflow.Id);
        Assert.Equal(ExportFixture.MaxExportRuns, job.GetProperty("matched").GetInt32());
    }

    [Fact]
    public async Task An_export_as_stored_needs_phi_read_and_is_audited()
    {
        var world = await PhiWorld.CreateAsync(api);
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        var jobs = await conn.ScalarAsync<long>("SELECT count(*) FROM export_jobs");

        var refused = await api.PostAsync(ExportFixture.Export,
            new { where = new { workflowId = new { eq = Ids.Workflow(world.Workflow.Id) } }, deidentify = false });
        Assert.Contains("FORBIDDEN", refused.ErrorCodes);
        Assert.Equal(jobs, await conn.ScalarAsync<long>("SELECT count(*) FROM export_jobs"));

        var audited = await conn.ScalarAsync<long>("SELECT count(*) FROM phi_access_audit WHERE $1 = ANY (trace_ids)", world.TraceId);
        var (job, file) = await ExportAsync(world, "JSONL", deidentify: false, scope: "phi:read");
        var text = Encoding.UTF8.GetString(file);
        foreach (var planted in world.Planted)
            Assert.Contains(planted, text, StringComparison.Ordinal);
        var record = Assert.Single(await conn.RowsAsync(
            "SELECT user_id, role, operation_name, fields FROM phi_access_audit WHERE $1 = ANY (trace_ids) ORDER BY seq DESC LIMIT 1",
            world.TraceId));
        Assert.Equal(audited + 1,
            await conn.ScalarAsync<long>("SELECT count(*) FROM phi_access_audit WHERE $1 = ANY (trace_ids)", world.TraceId));
        Assert.Equal("exportTraces", record["operation_name"]);
        Assert.Equal(GraphApiFixture.UserA, record["user_id"]);
        Assert.Contains("WorkflowStep.inputData", (string[])record["fields"]!);
        // the record joined the organisation's hash chain
        Assert.Null(await conn.ScalarAsync<long?>("SELECT verify_phi_access_audit($1)", world.Workflow.OrgId));
        Assert.False(job.GetProperty("downloadUrl").ValueKind == JsonValueKind.Null);
    }

    [Fact]
    public async Task A_job_whose_instance_went_away_is_taken_again_and_fails_after_its_attempts()
    {
        var world = await PhiWorld.CreateAsync(api);
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        var job = await api.RequestAsync(world.Workflow.OrgId, world.Workflow.Id);
        var rowId = job.GetProperty("rowId").GetInt64();
        // an instance claims it and dies: its lease runs out
        Assert.Equal(rowId, await conn.ScalarAsync<long>("SELECT job_id FROM claim_export_job('gone', 60, 3)"));
        await ExpireLeaseAsync(conn, rowId);
        await api.Worker.RunPassAsync(CancellationToken.None);
        var resumed = await api.JobAsync(world.Workflow.OrgId, job.GetProperty("id").GetString()!);
        Assert.Equal("COMPLETED", resumed.GetProperty("status").GetString());
        Assert.Equal(2, resumed.GetProperty("attempts").GetInt32());
        // a dead instance that still held it cannot finish it any more
        Assert.Equal("WF002", (await Assert.ThrowsAsync<Npgsql.PostgresException>(() => conn.ExecAsync(
            "SELECT finish_export_job($1, 'gone', 'x.jsonl', 0, 0, 0, 0, 0, now())", rowId))).SqlState);

        // one that killed its instance every time fails instead of staying RUNNING
        var again = await api.RequestAsync(world.Workflow.OrgId, world.Workflow.Id);
        var againId = again.GetProperty("rowId").GetInt64();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(againId, await conn.ScalarAsync<long>("SELECT job_id FROM claim_export_job('gone', 60, 3)"));
            await ExpireLeaseAsync(conn, againId);
        }
        await api.Worker.RunPassAsync(CancellationToken.None);
        var failed = await api.JobAsync(world.Workflow.OrgId, again.GetProperty("id").GetString()!);
        Assert.Equal("FAILED", failed.GetProperty("status").GetString());
        Assert.Contains("interrupted 3 times", failed.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, failed.GetProperty("downloadUrl").ValueKind);
    }

    [Fact]
    public async Task A_file_that_cannot_be_written_fails_its_job_with_nothing_left_behind()
    {
        // an organisation of its own, whose export folder cannot be created: a file stands in its place
        var org = Guid.NewGuid();
        await using (var conn = await FreshWorkflow.OwnerAsync(api))
            await conn.ExecAsync("INSERT INTO organizations (id, name) VALUES ($1, 'unwritable')", org);
        var workflow = await FreshWorkflow.CreateAsync(api, org);
        await using (var conn = await FreshWorkflow.OwnerAsync(api))
            await conn.ExecAsync("SELECT start_workflow_execution($1, 'web', 'CLAIM-1', NULL, NULL)", workflow.Id);
        Directory.CreateDirectory(api.Directory);
        await File.WriteAllTextAsync(Path.Combine(api.Directory, org.ToString("D")), "not a folder");

        var job = await api.RequestAsync(org, workflow.Id);
        await api.Worker.RunPassAsync(CancellationToken.None);
        var failed = await api.JobAsync(org, job.GetProperty("id").GetString()!);
        Assert.Equal("FAILED", failed.GetProperty("status").GetString());
        Assert.Equal("the export file could not be written", failed.GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Null, failed.GetProperty("downloadUrl").ValueKind);
        Assert.DoesNotContain(api.Files(), f => f.EndsWith(".partial", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_parquet_file_of_several_row_groups_reads_back_whole()
    {
        var path = Path.Combine(Path.GetTempPath(), $"wg-export-{Guid.NewGuid():N}.parquet");
        try
        {
            var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            long length;
            await using (var writer = ExportFileWriter.Create("parquet", path))
            {
                for (var i = 1; i <= 1_234; i++)
                {
                    var run = new ExportedRun
                    {
                        Id = i,
                        WorkflowId = "w",
                        Channel = "web",
                        Status = "completed",
                        StartTime = start.AddSeconds(i),
                        Steps = $$"""[{"n": {{i}}}]""",
                    };
                    await writer.WriteAsync(run, CancellationToken.None);
                }
                length = await writer.CompleteAsync(CancellationToken.None);
            }
            Assert.Equal(new FileInfo(path).Length, length);
            await using var file = File.OpenRead(path);
            var runs = (await ParquetSerializer.DeserializeAsync<ExportedRun>(file)).Data;
            Assert.Equal(Enumerable.Range(1, 1_234).Select(i => (long)i), runs.Select(r => r.Id));
            Assert.Equal("""[{"n": 1234}]""", runs[^1].Steps);
            Assert.Equal(start.AddSeconds(1_234), runs[^1].StartTime);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Files_past_their_expiry_are_deleted_and_no_longer_served()
    {
        var world = await PhiWorld.CreateAsync(api);
        var (job, _) = await ExportAsync(world, "PARQUET");
        var rowId = job.GetProperty("rowId").GetInt64();
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        var file = await conn.ScalarAsync<string>("SELECT file_name FROM export_jobs WHERE id = $1", rowId);
        Assert.Contains(api.Files(), f => f.EndsWith(file, StringComparison.Ordinal));

        await conn.ExecAsync("UPDATE export_jobs SET expires_at = now() - interval '1 minute' WHERE id = $1", rowId);
        await api.Worker.RunPassAsync(CancellationToken.None);
        var expired = await api.JobAsync(world.Workflow.OrgId, job.GetProperty("id").GetString()!);
        Assert.Equal("EXPIRED", expired.GetProperty("status").GetString());
        Assert.DoesNotContain(api.Files(), f => f.EndsWith(file, StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound,
            (await api.DownloadAsync(ExportDownloadEndpoint.PathPrefix + rowId, world.Workflow.OrgId, GraphApiFixture.UserA)).Status);
    }
}
