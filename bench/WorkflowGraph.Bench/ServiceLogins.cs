using WorkflowGraph.Development;

namespace WorkflowGraph.Bench;

/// <summary>The connection strings a service process gets: its own least-privilege login (the embedded cluster's
/// <c>workflowgraph_service</c>) and the owner, which only migrates.</summary>
public sealed record ServiceLogins(string Service, string Owner)
{
    /// <summary>Creates (or updates) the service login in the bench cluster, a member of <c>workflowgraph_app</c> once the
    /// data set's migrations made that role.</summary>
    public static async Task<ServiceLogins> EnsureAsync(string ownerConnection, string clusterRoot)
    {
        var password = await ServiceLogin.EnsureAsync(ownerConnection, clusterRoot, CancellationToken.None);
        await ServiceLogin.GrantAppRoleAsync(ownerConnection, CancellationToken.None);
        return new ServiceLogins(ServiceLogin.ConnectionString(ownerConnection, password), ownerConnection);
    }
}
