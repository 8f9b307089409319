namespace WorkflowGraph.Exports;

public static class ExportServices
{
    /// <summary>The export files' storage and the worker that writes them (<c>Export:*</c>), and retention's archive
    /// (<c>Retention:ArchiveDirectory</c>), which is kept apart from them.</summary>
    public static IServiceCollection AddExports(this IServiceCollection services)
    {
        services.AddSingleton<ExportStorage>();
        services.AddSingleton<ExportWorker>();
        services.AddHostedService(provider => provider.GetRequiredService<ExportWorker>());
        services.AddSingleton<Retention.RetentionArchive>();
        return services;
    }
}
