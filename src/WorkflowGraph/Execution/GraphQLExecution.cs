using GraphQL;
using GraphQL.Execution;
using GraphQL.Transport;
using GraphQL.Types;
using GraphQL.Validation;
using GraphQLParser.AST;
using Npgsql;
using WorkflowGraph.Database;
using WorkflowGraph.Querying;
using WorkflowGraph.Telemetry;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Execution;

/// <summary>
/// Runs one GraphQL request for a transport (HTTP or WebSocket): validation with the cost rule, the engine, error
/// codes instead of exception details, and the commit of what a mutation wrote.
/// </summary>
public sealed class GraphQLExecution
{
    private readonly ISchema _schema;
    private readonly IDocumentExecuter _executer;
    private readonly QueryLimits _limits;
    private readonly ILogger<GraphQLExecution> _logger;

    // rules that depend on the request (variables, transport) run again when a cached document is reused
    private readonly Dictionary<GraphQLTransport, (IValidationRule[] All, IValidationRule[] PerRequest)> _rules = [];

    public GraphQLExecution(ISchema schema, IDocumentExecuter executer, QueryLimits limits, ILogger<GraphQLExecution> logger)
    {
        (_schema, _executer, _limits, _logger) = (schema, executer, limits, logger);
        IValidationRule cost = new QueryCostRule(limits);
        foreach (var (transport, perRequest) in new (GraphQLTransport, IValidationRule[])[]
                 {
                     (GraphQLTransport.HttpGet, [cost, new OperationTypeRule(GraphQLTransport.HttpGet, OperationType.Query)]),
                     (GraphQLTransport.HttpPost,
                         [cost, new OperationTypeRule(GraphQLTransport.HttpPost, OperationType.Query, OperationType.Mutation)]),
                     (GraphQLTransport.WebSocket, [cost]),
                 })
            _rules[transport] = ([.. DocumentValidator.CoreRules, .. perRequest], perRequest);
    }

    /// <param name="requestServices">The request's scope; its <see cref="RequestDatabase"/> holds the transaction.</param>
    /// <param name="transport">Decides the operation types that may run: the others are refused before they run,
    /// a mutation over GET with code MUTATION_NOT_ALLOWED, a subscription over HTTP with SUBSCRIPTION_NOT_ALLOWED.</param>
    /// <param name="cancellationToken">For a subscription, it bounds setting up the stream (and a replay's first
    /// read), not the stream's life: the caller ends the stream by disposing its subscription.</param>
    public async Task<ExecutionResult> ExecuteAsync(GraphQLRequest request, IServiceProvider requestServices, GraphQLTransport transport,
        CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(_limits.ExecutionTimeoutSeconds));
        var (rules, perRequestRules) = _rules[transport];
        using var telemetry = OperationTelemetry.Start(request, requestServices.GetRequiredService<RequestTenant>());
        var result = await _executer.ExecuteAsync(new ExecutionOptions
        {
            Schema = _schema,
            Query = request.Query,
            OperationName = request.OperationName,
            Variables = request.Variables,
            Extensions = request.Extensions,
            RequestServices = requestServices,
            CancellationToken = timeout.Token,
            ValidationRules = rules,
            CachedDocumentValidationRules = perRequestRules,
            UnhandledExceptionDelegate = HideDetails,
            Listeners = { ReplicaRouting.Instance },
        });
        if (result.Executed && result.Operation?.Operation == OperationType.Mutation && result.Errors is null or { Count: 0 })
            await requestServices.GetRequiredService<RequestDatabase>().CommitAsync(cancellationToken);
        telemetry.Finish(result);
        return result;
    }

    /// <summary>Clients get a code and a plain sentence; the log gets the exception (never the response: no SQL, no stack).</summary>
    private Task HideDetails(UnhandledExceptionContext context)
    {
        var (code, message) = context.OriginalException switch
        {
            PostgresException { SqlState: "57014" } or OperationCanceledException =>
                ("TIMEOUT", "The request took too long and was stopped."),
            NpgsqlException => ("DATABASE_ERROR", "The database could not answer this request."),
            _ => ("INTERNAL_ERROR", "The request failed unexpectedly."),
        };
        _logger.LogError(context.OriginalException, "GraphQL field {Path} failed", context.FieldContext?.Path);
        context.Exception = new ExecutionError(message) { Code = code };
        return Task.CompletedTask;
    }
}
