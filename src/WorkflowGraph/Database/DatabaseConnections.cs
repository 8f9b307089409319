using WorkflowGraph.Development;

namespace WorkflowGraph.Database;

/// <summary>
/// Where the service's data lives: the configured connection strings, or the embedded cluster it started
/// because none was configured (disposing this stops that cluster).
/// </summary>
public sealed class DatabaseConnections(string app, string owner, EmbeddedPostgres? embedded) : IAsyncDisposable, IDisposable
{
    public const string AppKey = "WorkflowGraph";
    public const string OwnerKey = "WorkflowGraphOwner";

    /// <summary>The service's login; every request still runs as workflowgraph_app (see TenantSession).</summary>
    public string App { get; } = app;

    /// <summary>Used for migrations and demo data only.</summary>
    public string Owner { get; } = owner;

    public EmbeddedPostgres? Embedded { get; } = embedded;

    public static async Task<DatabaseConnections> ResolveAsync(
        IConfiguration configuration, IHostEnvironment environment, ILogger logger, CancellationToken ct = default)
    {
        var app = configuration.GetConnectionString(AppKey);
        if (!string.IsNullOrWhiteSpace(app))
        {
            var owner = configuration.GetConnectionString(OwnerKey);
            return new DatabaseConnections(app, string.IsNullOrWhiteSpace(owner) ? app : owner, null);
        }

        var root = RepoRoot.Find(environment.ContentRootPath) ?? environment.ContentRootPath;
        var folder = Path.Combine(root, ".data", "pg");
        logger.LogInformation("ConnectionStrings:{Key} is not set; using the embedded cluster in {Folder}", AppKey, folder);
        var embedded = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(folder), logger, ct);
        return new DatabaseConnections(embedded.ConnectionString, embedded.ConnectionString, embedded);
    }

    public ValueTask DisposeAsync() => Embedded?.DisposeAsync() ?? ValueTask.CompletedTask;

    public void Dispose() => Embedded?.Dispose();
}
