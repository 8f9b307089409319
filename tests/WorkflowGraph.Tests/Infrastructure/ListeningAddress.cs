using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace WorkflowGraph.Tests.Infrastructure;

/// <summary>Where a started host listens (port 0 lets the OS pick one).</summary>
public static class ListeningAddress
{
    /// <summary>Its first address, like <c>http://127.0.0.1:41234</c>, without a trailing slash.</summary>
    public static string Of(IServiceProvider services) =>
        services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
}
