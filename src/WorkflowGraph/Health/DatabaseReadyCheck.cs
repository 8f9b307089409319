using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using WorkflowGraph.Database.Migrations;

namespace WorkflowGraph.Health;

/// <summary>The database answers and every migration this build carries is applied (by this instance or another).</summary>
internal sealed class DatabaseReadyCheck(NpgsqlDataSource dataSource, ILogger<DatabaseReadyCheck> logger) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var applied = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            await using var names = dataSource.CreateCommand("SELECT name FROM public.schema_migrations");
            await using var reader = await names.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                applied.Add(reader.GetString(0));
        }
        catch (PostgresException error) when (error.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            // never migrated: reachable, nothing applied
        }
        catch (Exception error) when (error is NpgsqlException or TimeoutException)
        {
            // the probe's answer says only that; the log says why
            logger.LogWarning("Readiness: the database did not answer: {Message}", error.Message);
            return HealthCheckResult.Unhealthy("unavailable");
        }
        var pending = MigrationScript.Embedded.Count(script => !applied.Contains(script.Name));
        return pending == 0 ? HealthCheckResult.Healthy("ok") : HealthCheckResult.Unhealthy($"{pending} migration(s) pending");
    }
}
