using Microsoft.Extensions.Diagnostics.HealthChecks;
using WorkflowGraph.Subscriptions;

namespace WorkflowGraph.Health;

/// <summary>The instance's LISTEN connection is up, so live subscriptions here are woken by notifications.</summary>
internal sealed class EventListenerCheck(EventListener listener) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(listener.Listening ? HealthCheckResult.Healthy("listening") : HealthCheckResult.Unhealthy("reconnecting"));
}
