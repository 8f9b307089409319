using WorkflowGraph.Auth;
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
