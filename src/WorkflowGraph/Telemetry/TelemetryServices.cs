using Npgsql;
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
        var otlp = HasOtlpEndpoint(configuration);
        services.AddOpenTelemetry()
            // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are read by the SDK; the name only when they give none
            .ConfigureResource(resource =>
            {
                if (string.IsNullOrWhiteSpace(configuration["OTEL_SERVICE_NAME"])
                    && configuration["OTEL_RESOURCE_ATTRIBUTES"]?.Contains("service.name=", StringComparison.Ordinal) != true)
                    resource.AddService(DefaultServiceName);
            })
            .WithTracing(tracing =>
            {
                tracing.AddAspNetCoreInstrumentation(options => options.Filter = http => !IsProbe(http.Request.Path))
                    .AddSource(ServiceTelemetry.Name)
                    .AddNpgsql();
                if (otlp && configuration["OTEL_TRACES_EXPORTER"] != "none")
                    tracing.AddOtlpExporter();
            })
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation()
                    .AddMeter(ServiceTelemetry.Name, "Microsoft.AspNetCore.Server.Kestrel", RuntimeMeter)
                    .AddNpgsqlInstrumentation()
                    .AddPrometheusExporter();
                if (otlp && configuration["OTEL_METRICS_EXPORTER"] != "none")
                    metrics.AddOtlpExporter();
            });
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

    // a collector is named by any of the three; without one, OTLP would retry localhost:4317 forever
    private static bool HasOtlpEndpoint(IConfiguration configuration) =>
        new[] { "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT" }
            .Any(key => !string.IsNullOrWhiteSpace(configuration[key]));

    /// <summary>Probes and scrapes come every few seconds and say nothing about a request: no spans for them.</summary>
    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments("/healthz", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(MetricsPath, StringComparison.OrdinalIgnoreCase);
}
