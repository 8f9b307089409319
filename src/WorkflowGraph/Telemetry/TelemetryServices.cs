using System.Globalization;
using Npgsql;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace WorkflowGraph.Telemetry;

/// <summary>
/// OpenTelemetry, configured by the standard <c>OTEL_*</c> variables: traces (HTTP server span → the GraphQL operation →
/// Npgsql's client span of each statement, continuing a caller's W3C <c>traceparent</c>) and metrics (the service's
/// own, ASP.NET Core's, Kestrel's and Npgsql's connection pool), scraped by Prometheus on
/// <c>/metrics</c> and pushed over OTLP when an OTLP endpoint is set. <c>OTEL_SDK_DISABLED=true</c> leaves all of it out.
/// </summary>
public static class TelemetryServices
{
    public const string MetricsPath = "/metrics";
    public const string DefaultServiceName = "workflowgraph";

    /// <summary>The runtime's own meter: the managed heap and what the GC has committed beside the process's working set
    /// (<c>dotnet_gc_last_collection_*</c>, <c>dotnet_process_memory_working_set_bytes</c>), so an instance's memory per
    /// connection can be read off <c>/metrics</c>.</summary>
    private const string RuntimeMeter = "System.Runtime";

    public static IServiceCollection AddWorkflowGraphTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        if (IsDisabled(configuration))
            return services;
        // What is traced, for whichever exporter a tracer provider is built with (applied now, read when it is built).
        services.ConfigureOpenTelemetryTracerProvider(tracing =>
            tracing.AddAspNetCoreInstrumentation(options => options.Filter = http => !IsProbe(http.Request.Path))
                .AddSource(ServiceTelemetry.Name)
                .AddNpgsql());
        var telemetry = services.AddOpenTelemetry()
            // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are read by the SDK; the name only when they give none
            .ConfigureResource(resource =>
            {
                if (string.IsNullOrWhiteSpace(configuration["OTEL_SERVICE_NAME"])
                    && configuration["OTEL_RESOURCE_ATTRIBUTES"]?.Contains("service.name=", StringComparison.Ordinal) != true)
                    resource.AddService(DefaultServiceName);
            })
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation()
                    .AddMeter(ServiceTelemetry.Name, "Microsoft.AspNetCore.Server.Kestrel", RuntimeMeter)
                    .AddNpgsqlInstrumentation()
                    .AddPrometheusExporter();
                if (ExportsOverOtlp(configuration, "METRICS"))
                    metrics.AddOtlpExporter(options => ApplySignalSettings(options, configuration, "METRICS"));
            });
        // Spans only when they go somewhere: recording them for no exporter cost ~0.05 ms of CPU per request
        // (bench/README.md). A caller's sampled traceparent is still continued without them (ASP.NET Core's own
        // activity), so a run it starts records it.
        if (ExportsOverOtlp(configuration, "TRACES"))
            telemetry.WithTracing(tracing => tracing.AddOtlpExporter(options => ApplySignalSettings(options, configuration, "TRACES")));
        return services;
    }

    /// <summary><c>/metrics</c> in Prometheus' text format (nothing there when telemetry is disabled).</summary>
    public static IEndpointRouteBuilder MapMetricsEndpoint(this IEndpointRouteBuilder endpoints)
    {
        if (!IsDisabled(endpoints.ServiceProvider.GetRequiredService<IConfiguration>()))
            endpoints.MapPrometheusScrapingEndpoint(MetricsPath);
        return endpoints;
    }

    public static bool IsDisabled(IConfiguration configuration) =>
        string.Equals(configuration["OTEL_SDK_DISABLED"], "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>A signal goes over OTLP when a collector is named for it (the common endpoint or its own) and
    /// <c>OTEL_{signal}_EXPORTER</c> is not <c>none</c>; without one, OTLP would retry localhost for ever.</summary>
    private static bool ExportsOverOtlp(IConfiguration configuration, string signal) =>
        configuration[$"OTEL_{signal}_EXPORTER"] != "none"
        && new[] { "OTEL_EXPORTER_OTLP_ENDPOINT", $"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT" }
            .Any(key => !string.IsNullOrWhiteSpace(configuration[key]));

    /// <summary>
    /// A signal's own <c>OTEL_EXPORTER_OTLP_{signal}_*</c> settings (endpoint, protocol, headers, timeout), which win over
    /// the common ones: <c>AddOtlpExporter</c> reads only the common ones, and would send a signal whose own endpoint
    /// alone is set to the default <c>localhost</c> port. A signal's endpoint is its full URL, used as given.
    /// </summary>
    private static void ApplySignalSettings(OtlpExporterOptions options, IConfiguration configuration, string signal)
    {
        string? Setting(string name) => configuration[$"OTEL_EXPORTER_OTLP_{signal}_{name}"] is { } value
            && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
        if (Setting("PROTOCOL") is { } protocol)
            options.Protocol = protocol switch
            {
                "grpc" => OtlpExportProtocol.Grpc,
                "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
                _ => throw new InvalidOperationException(
                    $"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL is '{protocol}': 'grpc' and 'http/protobuf' are supported."),
            };
        if (Setting("ENDPOINT") is { } endpoint)
            options.Endpoint = Uri.TryCreate(endpoint, UriKind.Absolute, out var uri)
                ? uri
                : throw new InvalidOperationException($"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT is not an absolute URL: '{endpoint}'.");
        if (Setting("HEADERS") is { } headers)
            options.Headers = headers;
        if (Setting("TIMEOUT") is { } timeout)
            options.TimeoutMilliseconds = int.TryParse(timeout, NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds)
                ? milliseconds
                : throw new InvalidOperationException($"OTEL_EXPORTER_OTLP_{signal}_TIMEOUT is not a number of milliseconds: '{timeout}'.");
    }

    /// <summary>Probes and scrapes come every few seconds and say nothing about a request: no spans for them.</summary>
    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments("/healthz", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(MetricsPath, StringComparison.OrdinalIgnoreCase);
}
