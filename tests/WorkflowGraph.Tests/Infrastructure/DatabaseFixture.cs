using Npgsql;

namespace WorkflowGraph.Tests.Infrastructure;

/// <summary>
/// A database of its own for one test class (<c>IClassFixture&lt;DatabaseFixture&gt;</c>), copied from the migrated
/// template, so classes run in parallel without seeing each other's rows. Dropped when the class is done.
/// </summary>
public sealed class DatabaseFixture : IAsyncLifetime
{
    private NpgsqlDataSource? _dataSource;

    public string DatabaseName { get; } = TestCluster.UniqueDatabaseName();

    /// <summary>The owner (superuser) of this database; not subject to RLS unless a session switches role.</summary>
    public string OwnerConnectionString { get; private set; } = "";

    /// <summary>The service's login to this database: a member of workflowgraph_app, no superuser, owns nothing.</summary>
    public string ServiceConnectionString { get; private set; } = "";

    /// <summary>Pooled owner connections to this database.</summary>
    public NpgsqlDataSource DataSource => _dataSource ?? throw new InvalidOperationException("Fixture not initialised.");

    public async Task InitializeAsync()
    {
        var connectionString = await TestCluster.CreateDatabaseAsync(DatabaseName);
        OwnerConnectionString = new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 20 }.ConnectionString;
        _dataSource = NpgsqlDataSource.Create(OwnerConnectionString);
        ServiceConnectionString = await TestCluster.ServiceConnectionStringAsync(DatabaseName);
    }

    /// <summary>
    /// A transaction running as workflowgraph_app with the org and user set transaction-locally (null: unset,
    /// so RLS shows no rows). Dispose rolls back, so nothing a test writes survives it.
    /// </summary>
    public Task<TenantSession> OpenAsTenantAsync(Guid? orgId, Guid? userId = null, CancellationToken cancellationToken = default) =>
        TenantSession.BeginAsync(DataSource, orgId, userId, cancellationToken);

    /// <summary>
    /// A transaction as the owner, for setting up rows; switch with <see cref="TenantSession.BecomeTenantAsync"/>.
    /// Dispose rolls back.
    /// </summary>
    public Task<TenantSession> OpenAsOwnerAsync(CancellationToken cancellationToken = default) =>
        TenantSession.BeginAsOwnerAsync(DataSource, cancellationToken);

    public async Task DisposeAsync()
    {
        if (_dataSource is not null) await _dataSource.DisposeAsync();
        await TestCluster.DropDatabaseAsync(DatabaseName);
    }
}
