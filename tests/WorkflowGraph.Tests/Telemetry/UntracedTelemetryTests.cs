using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenTelemetry.Trace;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Tests.WebSockets;

namespace WorkflowGraph.Tests.Telemetry;

/// <summary>The service as it runs without an OTLP endpoint: no exporter, so no tracer provider.</summary>
public sealed class UntracedServer : TracedServer
{
    protected override void ConfigureHost(IWebHostBuilder host)
    {
    }
}

/// <summary>Spans are recorded only when something exports them; a caller's trace context is carried all the same.</summary>
public sealed partial class UntracedTelemetryTests(UntracedServer server) : IClassFixture<UntracedServer>
{
    [Fact]
    public async Task Without_an_exporter_no_span_is_recorded_and_a_run_still_records_the_callers_traceparent()
    {
        Assert.Null(server.Services.GetService<TracerProvider>());
        // (other test classes in this process do listen to ASP.NET Core's activities; without any listener, the
        // request's activity is ASP.NET Core's own, made because its diagnostics logging is on)
        var (traceparent, traceId, callerSpan) = TracedServer.CallerContext();
        var (response, body) = await server.PostTracedAsync("""
            mutation ($workflowId: ID!) {
              startWorkflowExecution(input: { workflowId: $workflowId, channel: WEB }) { trace { rowId } errors { __typename } }
            }
            """, new { workflowId = Ids.Workflow(GraphQLWsServer.WorkflowOf(GraphApiFixture.OrgA).WorkflowId) }, traceparent);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var runId = body.GetProperty("data").GetProperty("startWorkflowExecution").GetProperty("trace").GetProperty("rowId").GetInt64();
        await using var read = server.Database.DataSource.CreateCommand("SELECT traceparent FROM workflow_trace WHERE id = $1");
        read.Parameters.Add(new NpgsqlParameter { Value = runId });
        var recorded = Assert.IsType<string>(await read.ExecuteScalarAsync());
        // the caller's trace, under the request's own span (not the caller's)
        var match = Traceparent().Match(recorded);
        Assert.True(match.Success, recorded);
        Assert.Equal(traceId.ToHexString(), match.Groups["trace"].Value);
        Assert.NotEqual(callerSpan.ToHexString(), match.Groups["span"].Value);
    }

    [GeneratedRegex("^00-(?<trace>[0-9a-f]{32})-(?<span>[0-9a-f]{16})-01$")]
    private static partial Regex Traceparent();
}
