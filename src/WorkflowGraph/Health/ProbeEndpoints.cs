using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WorkflowGraph.Health;

/// <summary>
/// Kubernetes-style probes beside <c>/healthz</c>: <c>/healthz/live</c> answers 200 while the process serves HTTP at
/// all (it never looks at the database, so a database outage does not restart every instance);
/// <c>/healthz/ready</c> answers 200 only when the database answers with every migration applied, the event listener
/// listens and the instance is not draining, else 503; both say which check said what.
/// </summary>
public static class ProbeEndpoints
{
    private const string Ready = "ready";
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);

    public static IServiceCollection AddProbes(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<DatabaseReadyCheck>("database", tags: [Ready], timeout: CheckTimeout)
            .AddCheck<EventListenerCheck>("events", tags: [Ready])
            .AddCheck<DrainCheck>("lifecycle", tags: [Ready]);
        return services;
    }

    public static IEndpointRouteBuilder MapProbes(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/healthz/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync });
        endpoints.MapHealthChecks("/healthz/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(Ready),
            ResponseWriter = WriteAsync,
        });
        return endpoints;
    }

    /// <summary><c>{"status":"ok"|"unavailable","checks":{"database":"ok",…}}</c>; never an exception's text.</summary>
    private static Task WriteAsync(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json; charset=utf-8";
        http.Response.Headers.CacheControl = "no-store";
        var checks = report.Entries.ToDictionary(entry => entry.Key,
            entry => entry.Value.Description ?? (entry.Value.Exception is null ? entry.Value.Status.ToString() : "unavailable"));
        var status = report.Status == HealthStatus.Healthy ? "ok" : "unavailable";
        return http.Response.WriteAsync(JsonSerializer.Serialize(new { status, checks }), http.RequestAborted);
    }
}
