namespace WorkflowGraph.Exports;

public static class ExportServices
{
    /// <summary>The export files' storage and the worker that writes them (<c>Export:*</c>).</summary>
    public static IServiceCollection AddExports(this IServiceCollection services)
    {
        services.AddSingleton<ExportStorage>();
        services.AddSingleton<ExportWorker>();
        services.AddHostedService(provider => provider.GetRequiredService<ExportWorker>());
        return services;
    }
}
