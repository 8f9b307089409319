using GraphQL;
using WorkflowGraph.Auth;
using WorkflowGraph.Execution;

using WorkflowGraph.Transport.Persisted;

namespace WorkflowGraph.Transport.WebSockets;

/// <summary>What every connection of the WebSocket transport uses (singletons, so a connection costs no resolution).</summary>
internal sealed class GraphQLWsServices(GraphQLExecution execution, IServiceScopeFactory scopeFactory, IGraphQLTextSerializer serializer,
    TokenAuthenticator authenticator, TransportLimits limits,
    PersistedDocuments persisted, IHostApplicationLifetime lifetime, ILogger<GraphQLWsConnection> logger)
{
    public GraphQLExecution Execution => execution;
    public IServiceScopeFactory ScopeFactory => scopeFactory;
    public IGraphQLTextSerializer Serializer => serializer;
    public TokenAuthenticator Authenticator => authenticator;
    public TransportLimits Limits => limits;
    public PersistedDocuments Persisted => persisted;
    public IHostApplicationLifetime Lifetime => lifetime;
    public ILogger Logger => logger;
}
