using System.Text.Json.Serialization;

namespace WorkflowGraph.Transport.Ide;

/// <summary>
/// The <c>bcp-config.json</c> the IDE reads at start (the keys its bundle reads; HotChocolate's tool middleware
/// writes the same ones). The endpoint is resolved against the browser's URL, and subscriptions go over WebSocket
/// on the same URL with the graphql-ws library's protocol. <see cref="HttpHeaders"/> (HotChocolate's
/// <c>GraphQLToolOptions.HttpHeaders</c>; BCP 18 makes them the default headers of a new document's connection) carries
/// development mode's admin token, and nothing whenever a real signing key or authority is configured.
/// </summary>
public sealed record BananaCakePopConfig(
    string Title,
    bool UseBrowserUrlAsEndpoint,
    string Endpoint,
    string SubscriptionProtocol,
    bool IncludeCookies,
    bool DisableTelemetry,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? HttpHeaders)
{
    /// <param name="authorization">An Authorization header for the IDE to send, or null.</param>
    public static BananaCakePopConfig For(string endpoint, string? authorization) => new(
        Title: "WorkflowGraph",
        UseBrowserUrlAsEndpoint: true,
        Endpoint: endpoint,
        SubscriptionProtocol: "graphql-transport-ws",
        IncludeCookies: false,
        // The IDE would otherwise report usage to ChilliCream from every analyst's browser.
        DisableTelemetry: true,
        HttpHeaders: authorization is null ? null : new Dictionary<string, string> { ["Authorization"] = authorization });
}
