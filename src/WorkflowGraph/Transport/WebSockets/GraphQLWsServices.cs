using GraphQL;
using WorkflowGraph.Auth;
using WorkflowGraph.Execution;
using WorkflowGraph.Hosting;
using WorkflowGraph.RateLimiting;
using WorkflowGraph.Transport.Persisted;

namespace WorkflowGraph.Transport.WebSockets;

/// <summary>What every connection of the WebSocket transport uses (singletons, so a connection costs no resolution).</summary>
internal sealed class GraphQLWsServices(GraphQLExecution execution, IServiceScopeFactory scopeFactory, IGraphQLTextSerializer serializer,
    TokenAuthenticator authenticator, TokenSettings tokens, TransportLimits limits, OrganisationSendBudgets sendBudgets,
    ShutdownDrain shutdown, OrganisationLimiter limiter, PersistedDocuments persisted, ConnectionClock clock,
    ILogger<GraphQLWsConnection> logger)
{
    public GraphQLExecution Execution => execution;
    public IServiceScopeFactory ScopeFactory => scopeFactory;
    public IGraphQLTextSerializer Serializer => serializer;
    public TokenAuthenticator Authenticator => authenticator;
    public TokenSettings Tokens => tokens;
    public TransportLimits Limits => limits;
    public OrganisationSendBudgets SendBudgets => sendBudgets;
    public ShutdownDrain Shutdown => shutdown;
    public OrganisationLimiter Limiter => limiter;
    public PersistedDocuments Persisted => persisted;
    public ConnectionClock Clock => clock;
    public ILogger Logger => logger;
}
