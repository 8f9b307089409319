using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;
using WorkflowGraph.Tests.Auth;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Telemetry;

/// <summary>Spans pushed over OTLP/HTTP to a collector on a loopback port, configured by the standard variables.</summary>
public sealed class OtlpExportTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task A_traces_endpoint_of_its_own_receives_the_spans_at_the_path_it_names()
    {
        await using var collector = await Collector.StartAsync();
        // only the traces' own endpoint and protocol: the common ones would send to localhost:4317
        await using var factory = Service(
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", collector.Url + "/collector/traces"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-collector-key=k1"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_BSP_SCHEDULE_DELAY", "50"));
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", TestTokens.Bearer(Guid.NewGuid(), Guid.NewGuid()));

        using (var response = await client.GetAsync("/graphql?query=%7B%20traces%20%7B%20totalCount%20%7D%20%7D"))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var export = await collector.Exports.Reader.ReadAsync(deadline.Token);
        Assert.Equal("/collector/traces", export.Path);
        Assert.Equal("application/x-protobuf", export.ContentType);
        Assert.Equal("k1", export.Key);
        Assert.True(export.Bytes > 0);
    }

    [Fact]
    public async Task A_metrics_endpoint_alone_exports_metrics_there_and_records_no_spans()
    {
        await using var collector = await Collector.StartAsync();
        await using var factory = Service(
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", collector.Url + "/collector/metrics"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "100"));
        using var client = factory.CreateClient();
        using (var response = await client.GetAsync("/healthz"))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var export = await collector.Exports.Reader.ReadAsync(deadline.Token);
        Assert.Equal("/collector/metrics", export.Path);
        // a collector for metrics only: spans would go to the default localhost port, so none are recorded
        Assert.Null(factory.Services.GetService<TracerProvider>());
    }

    [Fact]
    public void A_signal_setting_that_cannot_be_read_stops_the_start_with_its_name()
    {
        using var factory = Service(
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:9/v1/traces"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"));
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", error.ToString());
    }

    /// <summary>The service over this class's database with <paramref name="settings"/> (started by its first client).</summary>
    private WebApplicationFactory<Program> Service(params (string Key, string Value)[] settings) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
        {
            host.UseSetting("ConnectionStrings:WorkflowGraph", db.OwnerConnectionString).UseTestSigningKey();
            foreach (var (key, value) in settings)
                host.UseSetting(key, value);
        });

    private sealed record Export(string Path, string? ContentType, string? Key, long Bytes);

    private sealed class Collector : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Collector(WebApplication app) => _app = app;

        public Channel<Export> Exports { get; } = Channel.CreateUnbounded<Export>();

        public string Url => ListeningAddress.Of(_app.Services);

        public static async Task<Collector> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var collector = new Collector(app);
            app.Run(async http =>
            {
                using var body = new MemoryStream();
                await http.Request.Body.CopyToAsync(body);
                await collector.Exports.Writer.WriteAsync(new Export(http.Request.Path, http.Request.ContentType,
                    http.Request.Headers["x-collector-key"].FirstOrDefault(), body.Length));
                http.Response.ContentType = "application/x-protobuf";
            });
            await app.StartAsync();
            return collector;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
