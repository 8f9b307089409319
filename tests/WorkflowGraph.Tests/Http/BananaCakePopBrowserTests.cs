using System.Text.Json;
using Xunit.Abstractions;

namespace WorkflowGraph.Tests.Http;

/// <summary>
/// Banana Cake Pop in headless Chromium (tests/http-audit/ide-smoke.mjs): the page loads from the service, the IDE
/// introspects the schema and runs a query typed into a new document. The service runs in development mode, so the
/// IDE authenticates with the token bcp-config.json gives it, as an analyst's would after `dotnet run`.
/// </summary>
public sealed class BananaCakePopBrowserTests(DevelopmentLiveServer server, ITestOutputHelper output)
    : IClassFixture<DevelopmentLiveServer>
{
    private sealed record SmokeReport(bool Ok, List<string> Steps, string? Error, string? Screenshot);

    [Fact]
    public async Task The_ide_loads_the_schema_and_runs_a_query()
    {
        var chromium = Chromium.ExecutableOrFail();
        var screenshot = Path.Combine(Path.GetTempPath(), $"bcp-smoke-{Guid.NewGuid():N}.png");

        var run = await NodeScript.RunAsync("ide-smoke.mjs", [server.BaseUrl, chromium, screenshot], TimeSpan.FromSeconds(90));

        Assert.True(run.ExitCode == 0, $"ide-smoke.mjs exited with {run.ExitCode}:\n{run.StandardError}");
        var report = JsonSerializer.Deserialize<SmokeReport>(run.StandardOutput, JsonSerializerOptions.Web)!;
        foreach (var step in report.Steps) output.WriteLine(step);
        Assert.True(report.Ok, $"""
            Banana Cake Pop did not get through: {report.Error}
            steps done: {string.Join(" → ", report.Steps)}
            {(report.Screenshot is null ? "" : $"screenshot of the page: {report.Screenshot}")}
            """);
    }
}
