using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using WorkflowGraph.Auth;
using WorkflowGraph.Hosting;
using WorkflowGraph.Transport.Ide;

namespace WorkflowGraph.Development;

/// <summary>
/// Development mode's ready tokens, once the token settings say it is in force (neither a signing key nor an
/// authority configured): the first one for Banana Cake Pop, all of them in the log.
/// </summary>
public sealed class DevelopmentSession(TokenSettings settings) : IIdeDefaultAuthorization
{
    private readonly Lazy<DevelopmentLogin?> _login = new(() => settings.Mode == AuthMode.Development
        ? DevelopmentLogin.Create(settings.Key!, settings.Issuer!, settings.Audience, settings.KeyFile)
        : null);

    /// <summary>Null whenever a real key or authority is configured.</summary>
    public DevelopmentLogin? Login => _login.Value;

    public string? Authorization => Login?.IdeAuthorization;
}

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
