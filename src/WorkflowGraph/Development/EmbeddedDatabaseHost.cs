using WorkflowGraph.Database;
using WorkflowGraph.Hosting;

namespace WorkflowGraph.Development;

/// <summary>Starts <see cref="EmbeddedDatabase"/> in <c>.data/pg</c> beside the repository (or the content root).</summary>
public sealed class EmbeddedDatabaseHost(IHostEnvironment environment, ILoggerFactory loggers) : ILocalDatabaseHost
{
    public async Task<ILocalDatabase> StartAsync(CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger("WorkflowGraph.Database");
        var root = RepoRoot.Find(environment.ContentRootPath) ?? environment.ContentRootPath;
        var folder = Path.Combine(root, ".data", "pg");
        logger.LogInformation("ConnectionStrings:{Key} is not set; using the embedded cluster in {Folder}",
            DatabaseConnections.AppKey, folder);
        var cluster = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(folder), logger, cancellationToken);
        try
        {
            var password = await ServiceLogin.EnsureAsync(cluster.ConnectionString, cluster.RootDirectory, cancellationToken);
            return new EmbeddedDatabase(cluster, password, logger);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }
}
