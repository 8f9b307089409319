using WorkflowGraph.Database;

namespace WorkflowGraph.Development;

/// <summary>
/// The local database of development mode: the embedded cluster in the repository's ignored <c>.data/pg</c>, with the
/// demo data loaded into it once it is empty and migrated. The service connects as <see cref="ServiceLogin"/> (no
/// superuser, owns nothing); the owner (a superuser) only migrates and loads the demo data.
/// </summary>
public sealed class EmbeddedDatabase(EmbeddedPostgres cluster, string servicePassword, ILogger logger) : ILocalDatabase
{
    public string AppConnectionString => ServiceLogin.ConnectionString(cluster.ConnectionString, servicePassword);

    public string OwnerConnectionString => cluster.ConnectionString;

    public async Task OnMigratedAsync(CancellationToken cancellationToken)
    {
        await ServiceLogin.GrantAppRoleAsync(OwnerConnectionString, cancellationToken);
        await DemoData.LoadIfEmptyAsync(OwnerConnectionString, logger, cancellationToken);
    }

    public ValueTask DisposeAsync() => cluster.DisposeAsync();

    public void Dispose() => cluster.Dispose();
}
