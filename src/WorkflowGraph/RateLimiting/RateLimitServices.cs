namespace WorkflowGraph.RateLimiting;

public static class RateLimitServices
{
    public static IServiceCollection AddOrganisationLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(RateLimitOptions.Section).Get<RateLimitOptions>() ?? new RateLimitOptions();
        if (options.RequestsPerSecond < 0 || options.Burst < 0 || options.ConcurrentRequests < 0 || options.SubscriptionsPerOrganisation < 0
            || options.Roles.Values.Any(role => role.RequestsPerSecond < 0 || role.Burst < 0 || role.ConcurrentRequests < 0))
            throw new InvalidOperationException($"{RateLimitOptions.Section}: limits are numbers of at least 0 (0 turns one off).");
        var unknown = options.Roles.Keys.Where(role => role is not ("viewer" or "operator" or "admin")).ToArray();
        if (unknown.Length > 0)
            throw new InvalidOperationException(
                $"{RateLimitOptions.Section}:Roles: unknown role(s) {string.Join(", ", unknown)}; " +
                "the roles are viewer, operator and admin.");
        services.AddSingleton(options);
        services.AddSingleton<OrganisationLimiter>();
        return services;
    }
}
