using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using WorkflowGraph.Hosting;

namespace WorkflowGraph.Development;

/// <summary>Prints development mode's tokens once the service listens, so they are the last thing on the screen.</summary>
internal sealed class DevelopmentTokensBanner(DevelopmentSession session, IHostApplicationLifetime lifetime, IServiceProvider services,
    ILogger<DevelopmentTokensBanner> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (session.Login is { } login)
            lifetime.ApplicationStarted.Register(() => logger.LogInformation("{Tokens}", login.Describe(BaseUrl())));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private string BaseUrl() =>
        services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()?.TrimEnd('/')
        ?? DefaultUrls.Local;
}
