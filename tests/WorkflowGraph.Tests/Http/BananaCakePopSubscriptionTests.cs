using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using WorkflowGraph.Development;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WorkflowGraph.Tests.Http;

/// <summary>
/// Banana Cake Pop runs a subscription over the service's WebSocket transport (tests/http-audit/ide-subscription.mjs):
/// in headless Chromium a new document subscribes to <c>workflowEvents(traceId:)</c> of a run the script started, the
/// script keeps setting context values of that run over HTTP until an event arrives, and then checks the page's
/// WebSocket frames (graphql-transport-ws: connection_init with the document's token, ack, subscribe, next), that
/// the response pane shows the event, and that Cancel ends the subscription (BCP 18 closes the socket with 1000 rather
/// than sending complete). The token is the one development mode gives the IDE through bcp-config.json.
/// </summary>
public sealed class BananaCakePopSubscriptionTests(DevelopmentLiveServerWithWorkflow server, ITestOutputHelper output)
    : IClassFixture<DevelopmentLiveServerWithWorkflow>
{
    private sealed record SubscriptionReport(bool Ok, List<string> Steps, string? Error, string? Screenshot, List<string>? Frames);

    [Fact]
    public async Task The_ide_subscribes_over_the_websocket_and_shows_the_events()
    {
        var chromium = Chromium.ExecutableOrFail();
        var screenshot = Path.Combine(Path.GetTempPath(), $"bcp-subscription-{Guid.NewGuid():N}.png");

        var run = await NodeScript.RunAsync("ide-subscription.mjs",
            [server.BaseUrl, Ids.Workflow(DevelopmentLiveServerWithWorkflow.WorkflowId), chromium, screenshot], TimeSpan.FromSeconds(90));

        Assert.True(run.ExitCode == 0, $"ide-subscription.mjs exited with {run.ExitCode}:\n{run.StandardError}");
        var report = JsonSerializer.Deserialize<SubscriptionReport>(run.StandardOutput, JsonSerializerOptions.Web)!;
        foreach (var step in report.Steps) output.WriteLine(step);
        foreach (var frame in report.Frames ?? []) output.WriteLine(frame);
        Assert.True(report.Ok, $"""
            Banana Cake Pop did not get the subscription's events: {report.Error}
            steps done: {string.Join(" → ", report.Steps)}
            WebSocket frames (> sent, < received): {string.Join(" | ", report.Frames ?? [])}
            {(report.Screenshot is null ? "" : $"screenshot of the page: {report.Screenshot}")}
            """);
    }
}

/// <summary>
/// A <see cref="LiveServer"/> in development mode, like <see cref="DevelopmentLiveServer"/>, whose database holds the
/// organisation and admin of the token the IDE gets (the first of <see cref="DevelopmentLogin.DemoUsers"/>) and one
/// active workflow of theirs, <see cref="WorkflowId"/>, so the IDE's token can start runs that produce events.
/// </summary>
public sealed class DevelopmentLiveServerWithWorkflow : LiveServer, IAsyncLifetime
{
    public static readonly Guid WorkflowId = Guid.Parse("2a000000-0000-4000-8000-000000000001");

    private readonly string _keyFile = Path.Combine(Path.GetTempPath(), $"wg-dev-key-{Guid.NewGuid():N}");

    protected override void Configure(IWebHostBuilder host) => host.UseSetting("Auth:DevelopmentKeyFile", _keyFile);

    async Task IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        var admin = DevelopmentLogin.DemoUsers[0];
        await using var connection = await Database.DataSource.OpenConnectionAsync();
        await connection.ExecAsync(
            "INSERT INTO organizations (id, name, slug) VALUES ($1, $2, 'northwind')", admin.Org, admin.Organisation);
        await connection.ExecAsync(
            "INSERT INTO users (id, org_id, email, display_name, role) VALUES ($1, $2, 'admin@northwind.example', 'Nora Admin', 'admin')",
            admin.User, admin.Org);
        await connection.ExecAsync(
            "INSERT INTO workflows (id, org_id, name, description, created_by) " +
            "VALUES ($1, $2, 'Eligibility Check', 'Coverage before the visit', $3)",
            WorkflowId, admin.Org, admin.User);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        File.Delete(_keyFile);
    }
}
