using WorkflowGraph.Database.Migrations;
namespace WorkflowGraph.Database;

/// <summary>
/// Brings the database up to date before the server takes requests: hosted services registered by the app
/// start before Kestrel does, and a failure here stops the service from starting at all.
/// </summary>
internal sealed class DatabaseStartup(DatabaseConnections connections, IConfiguration configuration, ILogger<DatabaseStartup> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (configuration.GetValue("Database:Migrate", true))
        {
            var runner = new MigrationRunner(connections.Owner, MigrationScript.Embedded, logger);
            var result = await runner.MigrateAsync(cancellationToken);
            logger.LogInformation("Database schema up to date: {Applied} migration(s) applied now, {Total} in all",
                result.Applied.Count, result.TotalApplied);
        }
        if (connections.Local is { } local)
            await local.OnMigratedAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
