using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.WebSockets;

namespace WorkflowGraph.Tests.Telemetry;

/// <summary>The service on a loopback port over graph-data.sql, exporting its spans into <see cref="Spans"/>.</summary>
public class TracedServer : GraphQLWsServer
{
    private readonly HttpClient _client = new();

    public SpanLog Spans { get; } = new();

    protected override void ConfigureHost(IWebHostBuilder host) =>
        host.ConfigureServices(services => services.AddOpenTelemetry().WithTracing(tracing => tracing.AddInMemoryExporter(Spans)));

    /// <summary>A W3C context of a caller's sampled span, and its trace and span ids.</summary>
    public static (string Header, ActivityTraceId TraceId, ActivitySpanId SpanId) CallerContext()
    {
        var (traceId, spanId) = (ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom());
        return ($"00-{traceId}-{spanId}-01", traceId, spanId);
    }

    /// <summary>POSTs an operation as an operator of org A, continuing the caller's <paramref name="traceparent"/>.</summary>
    public async Task<(HttpResponseMessage Response, JsonElement Body)> PostTracedAsync(string query, object? variables,
        string? traceparent, Guid? org = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, BaseUrl + "/graphql")
        {
            Content = JsonContent.Create(new { query, variables }),
        };
        request.Headers.TryAddWithoutValidation("Authorization", Bearer(org, TenantRole.Operator));
        if (traceparent is not null)
            request.Headers.TryAddWithoutValidation("traceparent", traceparent);
        var response = await _client.SendAsync(request);
        return (response, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    public Task<HttpResponseMessage> GetAsync(string path) => _client.GetAsync(BaseUrl + path);

    public override async Task DisposeAsync()
    {
        _client.Dispose();
        await base.DisposeAsync();
    }
}
