using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WorkflowGraph.Bench;

/// <summary>
/// A collector that takes OTLP/HTTP exports and keeps nothing but their count and size: what a service exporting its
/// spans pays (recording, batching, encoding, sending) without a real collector's own work on this machine.
/// </summary>
public sealed class OtlpSink : IAsyncDisposable
{
    private readonly WebApplication _app;
    private long _exports;
    private long _bytes;

    private OtlpSink(WebApplication app) => _app = app;

    /// <summary>Where traces are exported to (<c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>, http/protobuf).</summary>
    public string TracesEndpoint =>
        _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/v1/traces";

    public long Exports => Interlocked.Read(ref _exports);

    public long Bytes => Interlocked.Read(ref _bytes);

    public static async Task<OtlpSink> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // a port of the system's choosing: no race with another process for a free one
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var sink = new OtlpSink(app);
        app.MapPost("/v1/traces", async (HttpContext http) =>
        {
            var buffer = new byte[16 * 1024];
            long read = 0;
            int n;
            while ((n = await http.Request.Body.ReadAsync(buffer)) > 0)
                read += n;
            Interlocked.Add(ref sink._bytes, read);
            Interlocked.Increment(ref sink._exports);
            // an empty ExportTraceServiceResponse: everything accepted
            http.Response.ContentType = "application/x-protobuf";
        });
        await app.StartAsync();
        return sink;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
