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
            provider.GetRequiredService<IHostEnvironment>(),
            provider.GetRequiredService<ILoggerFactory>().CreateLogger("WorkflowGraph.Database")).GetAwaiter().GetResult());
        // IncludeErrorDetail: the helper functions list offending input fields as JSON in DETAIL (db/CONVENTIONS.md);
        // details are read by the mutation error mapping and never passed on verbatim.
        services.AddSingleton(provider => new NpgsqlDataSourceBuilder(provider.GetRequiredService<DatabaseConnections>().App)
            { ConnectionStringBuilder = { IncludeErrorDetail = true } }
            .UseLoggerFactory(provider.GetRequiredService<ILoggerFactory>())
            .Build());
        services.AddHostedService<DatabaseStartup>();
        services.AddHostedService<EventPartitionMaintenance>();
        return services;
    }
}
