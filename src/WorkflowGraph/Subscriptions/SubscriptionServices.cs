using System.Runtime.CompilerServices;

// the tests look a feed up the way the listener does (FeedRegistry.TryGet) to see that none is left behind
[assembly: InternalsVisibleTo("WorkflowGraph.Tests")]

namespace WorkflowGraph.Subscriptions;

public static class SubscriptionServices
{
    /// <summary>
    /// Live delivery: the feed registry (one feed per organisation with subscribers), the listener that wakes the
    /// feeds (one LISTEN connection per instance) and the reader of the event log.
    /// </summary>
    public static IServiceCollection AddLiveSubscriptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(configuration.GetSection("GraphQL").Get<SubscriptionOptions>() ?? new SubscriptionOptions());
        services.AddSingleton<EventLogReader>();
        services.AddSingleton<WorkflowGraph.Database.PhiAccessAuditor>();
        services.AddSingleton<FeedRegistry>();
        services.AddSingleton<EventListener>();
        services.AddHostedService(provider => provider.GetRequiredService<EventListener>());
        return services;
    }
}
