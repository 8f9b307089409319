namespace WorkflowGraph.Database;

/// <summary>
/// Where the service's data lives: the configured connection strings, or a local database started because none
/// was configured (disposing this stops it).
/// </summary>
public sealed class DatabaseConnections(string app, string owner, ILocalDatabase? local, string? readReplica = null,
    string? listener = null) : IAsyncDisposable, IDisposable
{
    public const string AppKey = "WorkflowGraph";
    public const string OwnerKey = "WorkflowGraphOwner";
    public const string ReadReplicaKey = "WorkflowGraphReadReplica";
    public const string ListenerKey = "WorkflowGraphListener";

    /// <summary>
    /// The instance's LISTEN connection: straight to PostgreSQL when <see cref="App"/> goes through a pooler in transaction
    /// mode (a LISTEN there would sit on a server connection other clients share, and hear nothing).
    /// </summary>
    public string Listener { get; } = listener ?? app;

    /// <summary>A streaming standby for queries (same login rules as <see cref="App"/>), if one is configured.</summary>
    public string? ReadReplica { get; } = readReplica;

    /// <summary>The service's login; every request still runs as workflowgraph_app (see TenantTransaction).</summary>
    public string App { get; } = app;

    /// <summary>Used for migrations (and a local database's demo data) only.</summary>
    public string Owner { get; } = owner;

    /// <summary>The database this service started for itself, if it did.</summary>
    public ILocalDatabase? Local { get; } = local;

    /// <param name="localHost">Starts a local database when none is configured; without it, that is an error.</param>
    public static async Task<DatabaseConnections> ResolveAsync(IConfiguration configuration, ILocalDatabaseHost? localHost,
        CancellationToken cancellationToken = default)
    {
        var app = configuration.GetConnectionString(AppKey);
        if (!string.IsNullOrWhiteSpace(app))
        {
            var owner = configuration.GetConnectionString(OwnerKey);
            var replica = configuration.GetConnectionString(ReadReplicaKey);
            var listener = configuration.GetConnectionString(ListenerKey);
            return new DatabaseConnections(app, string.IsNullOrWhiteSpace(owner) ? app : owner, null,
                string.IsNullOrWhiteSpace(replica) ? null : replica, string.IsNullOrWhiteSpace(listener) ? null : listener);
        }
        if (localHost is null)
            throw new InvalidOperationException($"ConnectionStrings:{AppKey} is not set; configure the database the service uses.");
        var local = await localHost.StartAsync(cancellationToken);
        return new DatabaseConnections(local.AppConnectionString, local.OwnerConnectionString, local);
    }

    public ValueTask DisposeAsync() => Local?.DisposeAsync() ?? ValueTask.CompletedTask;

    public void Dispose() => Local?.Dispose();
}
