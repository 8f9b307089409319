using System.Data.Common;
using Npgsql;

namespace WorkflowGraph.Database;

public static class DatabaseServices
{
    public static IServiceCollection AddWorkflowGraphDatabase(this IServiceCollection services)
    {
        // Resolved lazily, not in Program's top-level code, so configuration added by hosts such as
        // WebApplicationFactory is already in place. DI factories are synchronous; this runs once, while the
        // host starts and before any request.
        services.AddSingleton(provider => DatabaseConnections.ResolveAsync(
            provider.GetRequiredService<IConfiguration>(),
            provider.GetService<ILocalDatabaseHost>()).GetAwaiter().GetResult());
        // IncludeErrorDetail: the helper functions list offending input fields as JSON in DETAIL (db/CONVENTIONS.md);
        // details are read by the mutation error mapping and never passed on verbatim.
        services.AddSingleton(provider =>
        {
            var app = provider.GetRequiredService<DatabaseConnections>().App;
            var builder = new NpgsqlDataSourceBuilder(app) { ConnectionStringBuilder = { IncludeErrorDetail = true } };
            UsePreparedStatements(app, builder.ConnectionStringBuilder);
            KeepSessionsOnReturn(app, builder.ConnectionStringBuilder);
            UseLargeReadBuffer(app, builder.ConnectionStringBuilder);
            // the pool's name in metrics (db.client.connection.pool.name) instead of its connection string
            builder.Name = "workflowgraph";
            return builder.UseLoggerFactory(provider.GetRequiredService<ILoggerFactory>()).Build();
        });
        services.AddSingleton(provider =>
        {
            var connections = provider.GetRequiredService<DatabaseConnections>();
            var configuration = provider.GetRequiredService<IConfiguration>();
            var maxLag = TimeSpan.FromSeconds(configuration.GetValue("Database:MaxReplicaLagSeconds", 10.0));
            if (connections.ReadReplica is not { } replica)
                return new ReadReplica(null, maxLag);
            var builder = new NpgsqlDataSourceBuilder(replica) { ConnectionStringBuilder = { IncludeErrorDetail = true } };
            UsePreparedStatements(replica, builder.ConnectionStringBuilder);
            KeepSessionsOnReturn(replica, builder.ConnectionStringBuilder);
            UseLargeReadBuffer(replica, builder.ConnectionStringBuilder);
            builder.Name = "workflowgraph-replica";
            return new ReadReplica(builder.UseLoggerFactory(provider.GetRequiredService<ILoggerFactory>()).Build(), maxLag);
        });
        services.AddHostedService<ReplicaLagMonitor>();
        services.AddHostedService<DatabaseStartup>();
        services.AddHostedService<EventPartitionMaintenance>();
        return services;
    }

    /// <summary>
    /// Unless the connection string says otherwise (<c>Max Auto Prepare=0</c> turns it off, e.g. behind a pooler in
    /// transaction mode), statements sent at least twice on a connection are prepared: every request sends the same
    /// few texts (the tenant setup, the SQL of each document), and parsing and planning them again can cost PostgreSQL
    /// more than running them (bench/README.md has the measurements).
    /// </summary>
    public static void UsePreparedStatements(string configured, NpgsqlConnectionStringBuilder connectionString)
    {
        if (Given(configured, "MaxAutoPrepare"))
            return;
        connectionString.MaxAutoPrepare = 64;
        connectionString.AutoPrepareMinUsages = 2;
    }

    /// <summary>
    /// Unless the connection string says otherwise (<c>No Reset On Close=false</c>), a connection goes back to the pool
    /// without Npgsql's session reset (<c>SET SESSION AUTHORIZATION DEFAULT; RESET ALL; CLOSE ALL; UNLISTEN *; …</c>):
    /// everything the service sets on these pools is transaction-local (<c>SET LOCAL ROLE</c>, <c>set_config(…, true)</c>,
    /// see <see cref="TenantTransaction"/>) and ends with the transaction, which Npgsql still rolls back when a connection
    /// comes back inside one; session-level state (LISTEN, advisory locks) lives only on unpooled connections. The reset
    /// cost PostgreSQL about 0.1 ms of CPU per request, a seventh of a trace detail page (bench/README.md).
    /// </summary>
    public static void KeepSessionsOnReturn(string configured, NpgsqlConnectionStringBuilder connectionString)
    {
        if (!Given(configured, "NoResetOnClose"))
            connectionString.NoResetOnClose = true;
    }

    /// <summary>
    /// Unless the connection string says otherwise (<c>Read Buffer Size</c>), a connection reads up to 64 kB from its
    /// socket at a time instead of Npgsql's 8 kB: a statistics page reads a few hundred kB of rollup rows, and each
    /// buffer's worth was a receive call and an asynchronous continuation (a fifth of the service's samples were in the
    /// kernel). Measured only together with the statistics changes of the same day (bench/README.md). The pool holds at
    /// most <c>Maximum Pool Size</c> buffers, allocated once per connection.
    /// </summary>
    public static void UseLargeReadBuffer(string configured, NpgsqlConnectionStringBuilder connectionString)
    {
        if (!Given(configured, "ReadBufferSize"))
            connectionString.ReadBufferSize = 64 * 1024;
    }

    /// <summary>Whether the connection string as configured sets <paramref name="keyword"/> (spaces and case ignored).</summary>
    private static bool Given(string configured, string keyword)
    {
        // NpgsqlConnectionStringBuilder answers ContainsKey for every keyword it knows, set or not: read the keys as given
        var given = new DbConnectionStringBuilder { ConnectionString = configured }.Keys.Cast<string>();
        return given.Any(key => string.Concat(key.Where(c => c != ' ')).Equals(keyword, StringComparison.OrdinalIgnoreCase));
    }
}
