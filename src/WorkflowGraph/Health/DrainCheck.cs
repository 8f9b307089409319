using Microsoft.Extensions.Diagnostics.HealthChecks;
using WorkflowGraph.Hosting;

namespace WorkflowGraph.Health;

/// <summary>A stopping instance takes no new work (see <see cref="ShutdownDrain"/>).</summary>
internal sealed class DrainCheck(ShutdownDrain shutdown) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(shutdown.Draining ? HealthCheckResult.Unhealthy("draining") : HealthCheckResult.Healthy("serving"));
}
