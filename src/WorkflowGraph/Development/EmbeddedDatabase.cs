using WorkflowGraph.Database;
using WorkflowGraph.Hosting;

namespace WorkflowGraph.Development;

/// <summary>
/// The local database of development mode: the embedded cluster in the repository's ignored <c>.data/pg</c>, with the
/// demo data loaded into it once it is empty and migrated.
/// </summary>
public sealed class EmbeddedDatabase(EmbeddedPostgres cluster, ILogger logger) : ILocalDatabase
{
    public string AppConnectionString => cluster.ConnectionString;

    public string OwnerConnectionString => cluster.ConnectionString;

    public Task OnMigratedAsync(CancellationToken cancellationToken) =>
        DemoData.LoadIfEmptyAsync(OwnerConnectionString, logger, cancellationToken);

    public ValueTask DisposeAsync() => cluster.DisposeAsync();

    public void Dispose() => cluster.Dispose();
}

/// <summary>Starts <see cref="EmbeddedDatabase"/> in <c>.data/pg</c> beside the repository (or the content root).</summary>
public sealed class EmbeddedDatabaseHost(IHostEnvironment environment, ILoggerFactory loggers) : ILocalDatabaseHost
{
    public async Task<ILocalDatabase> StartAsync(CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger("WorkflowGraph.Database");
        var root = RepoRoot.Find(environment.ContentRootPath) ?? environment.ContentRootPath;
        var folder = Path.Combine(root, ".data", "pg");
        logger.LogInformation("ConnectionStrings:{Key} is not set; using the embedded cluster in {Folder}", DatabaseConnections.AppKey, folder);
        var cluster = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(folder), logger, cancellationToken);
        return new EmbeddedDatabase(cluster, logger);
    }
}
