using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using WorkflowGraph.Exports;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Auth;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Exports;

/// <summary>
/// The API with its export worker idle (tests run its passes themselves, so nothing races them), exports written to a
/// directory of the fixture's own, and a low bound on the runs of one export.
/// </summary>
public sealed class ExportFixture : GraphApiFixture
{
    public const int MaxExportRuns = 5;

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "wg-exports-" + Guid.NewGuid().ToString("N"));

    protected override void ConfigureHost(IWebHostBuilder host) => host
        .UseSetting("Export:PollSeconds", "0")
        .UseSetting("Export:Directory", Directory)
        .UseSetting("GraphQL:MaxExportRuns", MaxExportRuns.ToString(CultureInfo.InvariantCulture));

    public ExportWorker Worker => Services.GetRequiredService<ExportWorker>();

    /// <summary>Every file under the export directory (temporary ones included).</summary>
    public IReadOnlyList<string> Files() =>
        System.IO.Directory.Exists(Directory) ? System.IO.Directory.GetFiles(Directory, "*", SearchOption.AllDirectories) : [];

    public const string Export = """
        mutation ($where: WorkflowTraceFilterInput!, $deidentify: Boolean, $format: ExportFormat) {
          exportTraces(input: { where: $where, deidentify: $deidentify, format: $format }) {
            job { id rowId status format deidentify matched }
            errors { __typename ... on Error { message } ... on ValidationError { fields { field message } } }
          }
        }
        """;

    public const string Job = """
        query ($id: ID!) {
          exportJob(id: $id) { id rowId status matched runsWritten stepsWritten contextWritten eventsWritten bytes error attempts
                               downloadUrl expiresAt }
        }
        """;

    /// <summary>Requests an export of one workflow's runs and returns its job (fails the test on any error).</summary>
    public async Task<JsonElement> RequestAsync(Guid org, Guid workflowId, string format = "JSONL", bool deidentify = true,
        string? scope = null)
    {
        var where = new { workflowId = new { eq = Ids.Workflow(workflowId) } };
        var response = await PostAsync(Export, new { where, deidentify, format }, org, scope: scope);
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        var payload = response.Data.GetProperty("exportTraces");
        Assert.Equal(JsonValueKind.Null, payload.GetProperty("errors").ValueKind);
        return payload.GetProperty("job");
    }

    public async Task<JsonElement> JobAsync(Guid org, string id)
    {
        var response = await PostAsync(Job, new { id }, org);
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        return response.Data.GetProperty("exportJob");
    }

    public async Task<(HttpStatusCode Status, byte[] Body)> DownloadAsync(string path, Guid org, Guid user,
        TenantRole role = TenantRole.Admin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Authorization", TestTokens.Bearer(org, user, role));
        using var response = await Client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsByteArrayAsync());
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (System.IO.Directory.Exists(Directory))
            System.IO.Directory.Delete(Directory, recursive: true);
    }
}
