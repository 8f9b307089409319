using WorkflowGraph.Hosting;

namespace WorkflowGraph.Transport.Persisted;

public static class PersistedDocumentServices
{
    /// <summary>The trusted documents manifest (read once, at startup: a bad one stops the service) and the APQ cache.</summary>
    public static IServiceCollection AddPersistedDocuments(this IServiceCollection services, IConfiguration configuration,
        IHostEnvironment environment)
    {
        var options = configuration.GetSection("GraphQL").Get<PersistedDocumentOptions>() ?? new PersistedDocumentOptions();
        var trusted = string.IsNullOrWhiteSpace(options.TrustedDocumentsPath)
            ? TrustedDocuments.Empty
            : TrustedDocuments.Load(options.TrustedDocumentsPath, options.MaxTrustedDocumentsBytes);
        services.AddSingleton(new PersistedDocuments(trusted, new PersistedQueryCache(options.PersistedQueryCacheSize), options,
            DevelopmentMode.Is(configuration, environment)));
        return services;
    }
}
