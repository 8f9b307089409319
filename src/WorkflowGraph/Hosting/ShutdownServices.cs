namespace WorkflowGraph.Hosting;

public static class ShutdownServices
{
    /// <summary>The graceful stop (<see cref="ShutdownDrain"/>), with a shutdown timeout that outlasts its window.</summary>
    public static IServiceCollection AddShutdownDrain(this IServiceCollection services)
    {
        services.AddSingleton<ShutdownDrain>();
        services.AddHostedService(provider => provider.GetRequiredService<ShutdownDrain>());
        services.AddOptions<HostOptions>().Configure<IServiceProvider>((host, provider) =>
        {
            var least = provider.GetRequiredService<ShutdownDrain>().Window + TimeSpan.FromSeconds(30);
            if (host.ShutdownTimeout < least)
                host.ShutdownTimeout = least;
        });
        return services;
    }
}
