namespace WorkflowGraph.Subscriptions;

public static class SubscriptionServices
{
    /// <summary>Live delivery: the event hub (one LISTEN connection, one feed per organisation) and its reader.</summary>
    public static IServiceCollection AddLiveSubscriptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(configuration.GetSection("GraphQL").Get<EventFeedOptions>() ?? new EventFeedOptions());
        services.AddSingleton<EventLogReader>();
        services.AddSingleton<EventHub>();
        services.AddHostedService(provider => provider.GetRequiredService<EventHub>());
        return services;
    }
}
