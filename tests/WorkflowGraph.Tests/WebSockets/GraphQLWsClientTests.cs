using System.Text.Json;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Http;
using WorkflowGraph.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WorkflowGraph.Tests.WebSockets;

/// <summary>
/// The graphql-ws npm client, the protocol's reference implementation, against the service (tests/http-audit/
/// ws-protocol.mjs): handshake, refused token, results, events of mutations, the client's complete, pings both ways.
/// </summary>
public sealed class GraphQLWsClientTests(ProtocolServer server, ITestOutputHelper output) : IClassFixture<ProtocolServer>
{
    private sealed record CheckResult(string Name, string Status, string? Reason);
    private sealed record Report(List<CheckResult> Results);

    [Fact]
    public async Task The_graphql_ws_client_passes_every_check()
    {
        var (workflowId, nodeId) = GraphQLWsServer.WorkflowOf(GraphApiFixture.OrgA);
        var authorization = GraphQLWsServer.Bearer(GraphApiFixture.OrgA, TenantRole.Operator);
        var run = await NodeScript.RunAsync("ws-protocol.mjs",
            [server.BaseUrl + "/graphql", authorization, Ids.Workflow(workflowId), Ids.Node(nodeId)], TimeSpan.FromSeconds(60));
        Assert.True(run.ExitCode == 0, $"ws-protocol.mjs exited with {run.ExitCode}:\n{run.StandardError}");
        var report = JsonSerializer.Deserialize<Report>(run.StandardOutput, JsonSerializerOptions.Web)!;
        foreach (var result in report.Results)
            output.WriteLine($"{result.Status,-6} {result.Name}{(result.Reason is null ? "" : ": " + result.Reason)}");
        Assert.True(report.Results.Count >= 9, $"expected the script's nine checks, got {report.Results.Count}");
        var failures = report.Results.Where(result => result.Status != "ok").ToList();
        Assert.True(failures.Count == 0,
            "graphql-ws checks failed:\n" + string.Join("\n", failures.Select(f => $"  {f.Name}: {f.Reason}")));
    }
}
