using WorkflowGraph.Database;

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
