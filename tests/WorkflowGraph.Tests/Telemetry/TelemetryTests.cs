using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Tests.WebSockets;

namespace WorkflowGraph.Tests.Telemetry;

/// <summary>Traces through the in-memory exporter, metrics through a real scrape of <c>/metrics</c>.</summary>
public sealed partial class TelemetryTests(TracedServer server) : IClassFixture<TracedServer>
{
    // a value a client may send that must never reach a span: variables can hold PHI
    private const string Marker = "PHI-Jane-Doe-1970-01-01";

    private const string Dashboard = """
        query Dashboard($externalId: String) {
          traces(first: 5, where: { externalId: { eq: $externalId } }) { totalCount nodes { status steps { status } } }
        }
        """;

    [Fact]
    public async Task A_query_continues_the_callers_trace_from_the_HTTP_span_through_the_operation_to_each_statement()
    {
        var (traceparent, traceId, callerSpan) = TracedServer.CallerContext();

        var (response, body) = await server.PostTracedAsync(Dashboard, new { externalId = Marker }, traceparent);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, body.GetProperty("data").GetProperty("traces").GetProperty("totalCount").GetInt32());
        var spans = await server.Spans.OfTraceAsync(traceId, s => s.Any(IsHttpServer) && s.Any(IsOperation) && s.Any(IsNpgsql));
        var http = Assert.Single(spans, IsHttpServer);
        Assert.Equal(callerSpan, http.ParentSpanId);
        var operation = Assert.Single(spans, IsOperation);
        Assert.Equal(http.SpanId, operation.ParentSpanId);
        Assert.Equal("query Dashboard", operation.DisplayName);
        Assert.Equal("Dashboard", operation.GetTagItem("graphql.operation.name"));
        Assert.Equal("query", operation.GetTagItem("graphql.operation.type"));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Dashboard))),
            operation.GetTagItem("graphql.document.hash"));
        Assert.Equal(GraphApiFixture.OrgA.ToString(), operation.GetTagItem("workflowgraph.org_id"));
        var statements = spans.Where(IsNpgsql).ToArray();
        Assert.All(statements, statement =>
        {
            Assert.Equal(operation.SpanId, statement.ParentSpanId);
            Assert.Equal(ActivityKind.Client, statement.Kind);
        });
        Assert.Contains(statements,
            s => s.GetTagItem("db.query.text") is string sql && sql.Contains("workflow_trace", StringComparison.Ordinal));
        // neither the variables nor the values bound to the SQL appear on any span
        Assert.DoesNotContain(spans.SelectMany(s => s.TagObjects), tag => tag.Value?.ToString()?.Contains(Marker) == true);
    }

    [Fact]
    public async Task A_run_records_the_traceparent_of_the_traced_request_that_started_it()
    {
        var (traceparent, traceId, _) = TracedServer.CallerContext();
        var (_, body) = await server.PostTracedAsync("""
            mutation ($workflowId: ID!) {
              startWorkflowExecution(input: { workflowId: $workflowId, channel: WEB }) { trace { rowId } errors { __typename } }
            }
            """, new { workflowId = Ids.Workflow(GraphQLWsServer.WorkflowOf(GraphApiFixture.OrgA).WorkflowId) }, traceparent);
        var runId = body.GetProperty("data").GetProperty("startWorkflowExecution").GetProperty("trace").GetProperty("rowId").GetInt64();

        var spans = await server.Spans.OfTraceAsync(traceId, s => s.Any(IsOperation));
        var operation = Assert.Single(spans, IsOperation);
        await using var read = server.Database.DataSource.CreateCommand("SELECT traceparent FROM workflow_trace WHERE id = $1");
        read.Parameters.Add(new NpgsqlParameter { Value = runId });
        Assert.Equal($"00-{traceId}-{operation.SpanId}-01", await read.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_malformed_traceparent_setting_is_not_recorded_and_does_not_stop_the_run()
    {
        await using var connection = await server.Database.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var start = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("SELECT set_config('app.current_org_id', $1, true), set_config('app.traceparent', $2, true)")
                {
                    Parameters = { new() { Value = GraphApiFixture.OrgA.ToString() }, new() { Value = "00-not-a-trace" } },
                },
                new NpgsqlBatchCommand("SELECT start_workflow_execution($1, 'web', NULL, NULL, NULL)")
                {
                    Parameters = { new() { Value = GraphQLWsServer.WorkflowOf(GraphApiFixture.OrgA).WorkflowId } },
                },
                new NpgsqlBatchCommand(
                    "SELECT traceparent FROM workflow_trace WHERE id = currval(pg_get_serial_sequence('workflow_trace', 'id'))"),
            },
        };
        await using var reader = await start.ExecuteReaderAsync();
        await reader.NextResultAsync();
        await reader.NextResultAsync();
        Assert.True(await reader.ReadAsync());
        Assert.True(reader.IsDBNull(0));
    }

    [Fact]
    public async Task A_scrape_of_metrics_shows_requests_errors_sockets_subscriptions_deliveries_lag_and_the_pool()
    {
        await server.PostTracedAsync("query TelemetryScrape { traces(first: 1) { totalCount } }", null, null);
        await server.PostTracedAsync("query TelemetryScrapeInvalid { traces(first: 1) { noSuchField } }", null, null);
        var (traceId, cursor) = await server.StartRunAsync();
        await using var client = await server.ConnectAsync();
        await client.SubscribeAsync("events", "subscription ($traceId: ID!, $after: String) " +
            "{ workflowEvents(traceId: $traceId, after: $after) { eventType } }", new { traceId = Ids.Trace(traceId), after = cursor });
        await server.StartStepAsync(traceId, 1);
        await client.NextAsync("events");
        // replayed or live, the first was delivered, so the subscriber has joined the live feed: this one is read live
        await server.SetContextAsync(traceId, "payer");
        Assert.Equal("context_set", (await client.NextAsync("events")).GetProperty("data").GetProperty("workflowEvents")
            .GetProperty("eventType").GetString());

        using var response = await server.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        var scrape = await response.Content.ReadAsStringAsync();
        Assert.True(Value(scrape, "graphql_server_request_duration_seconds_count",
            "graphql_operation_name=\"TelemetryScrape\"", "graphql_operation_type=\"query\"", "outcome=\"ok\"") >= 1, scrape);
        Assert.True(Value(scrape, "graphql_server_request_duration_seconds_count",
            "graphql_operation_name=\"(invalid)\"", "graphql_operation_type=\"unknown\"", "outcome=\"invalid\"") >= 1, scrape);
        Assert.True(Value(scrape, "graphql_server_errors_total", "error_code=\"FIELDS_ON_CORRECT_TYPE\"") >= 1, scrape);
        Assert.True(Value(scrape, "workflowgraph_websocket_connections") >= 1, scrape);
        Assert.True(Value(scrape, "workflowgraph_subscriptions_active") >= 1, scrape);
        Assert.True(Value(scrape, "workflowgraph_events_delivered_total") >= 1, scrape);
        Assert.True(Value(scrape, "workflowgraph_feed_lag_seconds_count") >= 1, scrape);
        Assert.Contains("http_server_request_duration_seconds_count", scrape);
        // Npgsql's connection pool
        Assert.Matches(PoolMetric(), scrape);
    }

    /// <summary>The largest value of the series of <paramref name="metric"/> whose labels include all of
    /// <paramref name="labels"/>, or -1 when there is none.</summary>
    private static double Value(string scrape, string metric, params string[] labels)
    {
        var values = scrape.Split('\n')
            .Where(line => line.StartsWith(metric + "{", StringComparison.Ordinal)
                           || line.StartsWith(metric + " ", StringComparison.Ordinal))
            .Where(line => labels.All(label => line.Contains(label, StringComparison.Ordinal)))
            .Select(line => double.Parse(SampleValue().Match(line).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
            .ToArray();
        return values.Length == 0 ? -1 : values.Max();
    }

    private static bool IsHttpServer(Activity span) => span.Kind == ActivityKind.Server;

    private static bool IsOperation(Activity span) => span.Source.Name == "WorkflowGraph" && span.OperationName == "graphql.operation";

    private static bool IsNpgsql(Activity span) => span.Source.Name == "Npgsql";

    // name{labels} value [timestamp]
    [GeneratedRegex(@"^[^{ ]+(?:\{.*\})? (\S+)")]
    private static partial Regex SampleValue();

    [GeneratedRegex(@"(?m)^db_client_connection[a-z_]*\{")]
    private static partial Regex PoolMetric();
}
