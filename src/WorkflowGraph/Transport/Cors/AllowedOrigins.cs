namespace WorkflowGraph.Transport.Cors;

/// <summary>
/// The origins whose pages may call the API, one list for both transports: the CORS policy of HTTP requests and the
/// <c>Origin</c> check of WebSocket upgrades (<see cref="OriginGuard"/>). The service's own origin (the IDE it serves)
/// is always allowed.
/// </summary>
public sealed class AllowedOrigins
{
    /// <summary>Vite, Create React App/Next.js, Angular, webpack-dev-server and Vite's preview, on both loopback names.</summary>
    public static readonly IReadOnlyList<string> DevelopmentDefaults =
        [.. new[] { 3000, 4173, 4200, 5173, 8080 }.SelectMany(port => new[] { $"http://localhost:{port}", $"http://127.0.0.1:{port}" })];

    private readonly HashSet<string> _origins;

    public AllowedOrigins(IEnumerable<string> origins) =>
        _origins = origins.Select(Normalize).OfType<string>().ToHashSet(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Listed => _origins;

    /// <summary>The configured list; unset, the development defaults when the service runs in development, else none.</summary>
    public static AllowedOrigins From(CorsOptions options, bool development) =>
        new(options.AllowedOrigins ?? (development ? DevelopmentDefaults : []));

    public bool IsListed(string origin) => Normalize(origin) is { } normalized && _origins.Contains(normalized);

    /// <summary>An <c>Origin</c> header this service accepts: listed, or its own (same-origin requests need no CORS).</summary>
    public bool Accepts(HttpContext http, string origin) => IsListed(origin) || IsOwn(http, origin);

    /// <summary>The origin of this service itself (a page it served, like the IDE).</summary>
    public static bool IsOwn(HttpContext http, string origin) =>
        Normalize(origin) is { } normalized && normalized == Normalize($"{http.Request.Scheme}://{http.Request.Host}");

    /// <summary>The request names this service's own origin: browsers send <c>Origin</c> on every POST and WebSocket.</summary>
    public static bool FromOwnPage(HttpContext http) => http.Request.Headers.Origin is [{ } origin] && IsOwn(http, origin);

    /// <summary>scheme://host[:port] in lower case without a default port or trailing slash; null for what is not an origin.</summary>
    public static string? Normalize(string origin) =>
        Uri.TryCreate(origin.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
        && uri.AbsolutePath == "/" && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.UserInfo)
            ? uri.GetLeftPart(UriPartial.Authority).ToLowerInvariant()
            : null;
}
