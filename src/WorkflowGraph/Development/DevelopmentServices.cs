using WorkflowGraph.Auth;
using WorkflowGraph.Database;
using WorkflowGraph.Transport.Ide;

namespace WorkflowGraph.Development;

public static class DevelopmentServices
{
    /// <summary>
    /// What the service falls back to when nothing is configured: the embedded cluster with demo data (no
    /// <c>ConnectionStrings:WorkflowGraph</c>) and a generated signing key with ready tokens (no <c>Auth:SigningKey</c>
    /// or <c>Auth:Authority</c>). Each is used only when its setting is absent.
    /// </summary>
    public static IServiceCollection AddDevelopmentFallbacks(this IServiceCollection services)
    {
        services.AddSingleton<ILocalDatabaseHost, EmbeddedDatabaseHost>();
        services.AddSingleton<IDevelopmentKeyStore, DevelopmentKeyStore>();
        services.AddSingleton<DevelopmentSession>();
        services.AddSingleton<IIdeDefaultAuthorization>(provider => provider.GetRequiredService<DevelopmentSession>());
        services.AddHostedService<DevelopmentTokensBanner>();
        return services;
    }
}
