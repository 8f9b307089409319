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
        // NpgsqlConnectionStringBuilder answers ContainsKey for every keyword it knows, set or not: read the keys as given
        var given = new DbConnectionStringBuilder { ConnectionString = configured }.Keys.Cast<string>();
        if (given.Any(key => string.Concat(key.Where(c => c != ' ')).Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase)))
            return;
        connectionString.MaxAutoPrepare = 64;
        connectionString.AutoPrepareMinUsages = 2;
    }
}
