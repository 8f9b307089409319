using System.Text.Json;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Tests.WebSockets;

namespace WorkflowGraph.Tests.Http;

/// <summary>A service on a real port with the test data, for the front-end clients (tests/frontend-clients).</summary>
public sealed class FrontendClientServer : GraphQLWsServer;

/// <summary>
/// The clients front-end teams use, from npm, against the service as the README sets them up (tests/frontend-clients,
/// clients.mjs): Apollo Client pages a connection with relayStylePagination and normalises runs by global id, its
/// persisted-queries link goes not found → registered → by hash over GET, it receives a subscription over graphql-ws,
/// urql runs a GET query, graphql-js introspects with every option and builds the schema; relay-compiler compiles
/// refetchable and pagination fragments on runs and steps against the served SDL and relay-runtime normalises the
/// results with its default store (relay.mjs); graphql-codegen with the .graphqlrc.json settings (strictScalars)
/// generates types for the test operations that tsc --strict accepts (codegen.mjs).
/// </summary>
public sealed class FrontendClientTests(FrontendClientServer server) : IClassFixture<FrontendClientServer>
{
    private sealed record Check(string Name, string Status, string? Reason);
    private sealed record Report(List<Check> Results);

    [Fact]
    public async Task Apollo_and_urql_work_as_the_readme_sets_them_up()
    {
        // run 3 of graph-data.sql is open, so its context can change while Apollo listens
        var run = await NodeScript.RunAsync("clients.mjs",
            [server.BaseUrl + "/graphql", GraphQLWsServer.Bearer(), Ids.Trace(3)], TimeSpan.FromSeconds(60), "frontend-clients");
        Assert.True(run.ExitCode == 0, $"clients.mjs exited with {run.ExitCode}:\n{run.StandardError}");
        var report = JsonSerializer.Deserialize<Report>(run.StandardOutput, JsonSerializerOptions.Web)!;

        AllPassed(report, 5);
    }

    [Fact]
    public async Task Relay_compiles_refetchable_and_pagination_fragments_and_normalises_with_its_default_store()
    {
        var run = await NodeScript.RunAsync("relay.mjs", [server.BaseUrl, GraphQLWsServer.Bearer()], TimeSpan.FromSeconds(90),
            "frontend-clients");
        Assert.True(run.ExitCode == 0, $"relay.mjs exited with {run.ExitCode}:\n{run.StandardError}");
        AllPassed(JsonSerializer.Deserialize<Report>(run.StandardOutput, JsonSerializerOptions.Web)!, 2);
    }

    [Fact]
    public async Task Codegen_with_strict_scalars_and_the_readme_mappings_compiles_under_tsc_strict()
    {
        var run = await NodeScript.RunAsync("codegen.mjs", [], TimeSpan.FromSeconds(120), "frontend-clients");
        Assert.True(run.ExitCode == 0, $"codegen.mjs exited with {run.ExitCode}:\n{run.StandardError}");
        AllPassed(JsonSerializer.Deserialize<Report>(run.StandardOutput, JsonSerializerOptions.Web)!, 2);
    }

    private static void AllPassed(Report report, int checks)
    {
        Assert.Equal(checks, report.Results.Count);
        var failures = report.Results.Where(check => check.Status != "ok").ToList();
        Assert.True(failures.Count == 0,
            "front-end client checks failed:\n" + string.Join("\n", failures.Select(f => $"  {f.Name}: {f.Reason}")));
    }
}
