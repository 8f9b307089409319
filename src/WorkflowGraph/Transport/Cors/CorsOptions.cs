namespace WorkflowGraph.Transport.Cors;

/// <summary>The <c>Cors</c> configuration section: which other origins' pages may call the API from a browser.</summary>
public sealed class CorsOptions
{
    public const string Section = "Cors";

    /// <summary>
    /// Origins (<c>scheme://host[:port]</c>) allowed to call <c>/graphql</c> over HTTP and WebSocket. Unset: none, or
    /// in development the usual local dev-server origins (<see cref="AllowedOrigins.DevelopmentDefaults"/>).
    /// </summary>
    public string[]? AllowedOrigins { get; set; }

    /// <summary>How long a browser may cache a preflight's answer (Access-Control-Max-Age).</summary>
    public int PreflightMaxAgeSeconds { get; set; } = 600;
}
