using Npgsql;
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
        await WarnAboutPrivilegesAsync(cancellationToken);
    }

    /// <summary>Requests run as workflowgraph_app whatever the login (TenantTransaction); a login that could do more is
    /// still worth a warning, because then only that discipline stands between a tenant and the others' rows.</summary>
    private async Task WarnAboutPrivilegesAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<string> problems;
        try
        {
            problems = await LoginPrivilegeCheck.ProblemsAsync(connections.App, cancellationToken);
        }
        catch (NpgsqlException error)
        {
            logger.LogWarning("Could not check the privileges of the service's database login: {Reason}", error.Message);
            return;
        }
        if (problems.Count > 0)
            logger.LogWarning(
                "ConnectionStrings:{Key}: {Problems}. Give the service a login that is only a member of workflowgraph_app " +
                "(no superuser, owns nothing) and keep the owner for ConnectionStrings:{OwnerKey} (README, Production)",
                DatabaseConnections.AppKey, string.Join("; ", problems), DatabaseConnections.OwnerKey);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
