namespace WorkflowGraph.Api.Ide;

/// <summary>
/// The <c>bcp-config.json</c> the IDE reads at start (the keys its bundle reads; HotChocolate's tool middleware
/// writes the same ones). The endpoint is resolved against the browser's URL, and subscriptions go over WebSocket
/// on the same URL with the graphql-ws library's protocol.
/// </summary>
public sealed record BananaCakePopConfig(
    string Title,
    bool UseBrowserUrlAsEndpoint,
    string Endpoint,
    string SubscriptionProtocol,
    bool IncludeCookies,
    bool DisableTelemetry)
{
    public static BananaCakePopConfig For(string endpoint) => new(
        Title: "WorkflowGraph",
        UseBrowserUrlAsEndpoint: true,
        Endpoint: endpoint,
        SubscriptionProtocol: "graphql-transport-ws",
        IncludeCookies: false,
        // The IDE would otherwise report usage to ChilliCream from every analyst's browser.
        DisableTelemetry: true);
}
