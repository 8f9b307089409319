using GraphQL;
using GraphQL.Execution;
using GraphQL.Transport;
using GraphQL.Types;
using GraphQL.Validation;
using GraphQLParser.AST;
using Npgsql;
using WorkflowGraph.Querying;

namespace WorkflowGraph.Api;

/// <summary>
/// Runs one GraphQL request for a transport (HTTP now, WebSocket later): validation with the cost rule, the
/// engine, error codes instead of exception details, and the commit of what a mutation wrote.
/// </summary>
public sealed class GraphQLExecution
{
    private readonly ISchema schema;
    private readonly IDocumentExecuter executer;
    private readonly QueryLimits limits;
    private readonly ILogger<GraphQLExecution> logger;

    // rules that depend on the request (variables, transport) run again when a cached document is reused
    private readonly IValidationRule[] _requestRules;
    private readonly IValidationRule[] _getRequestRules;
    private readonly IValidationRule[] _rules;
    private readonly IValidationRule[] _getRules;

    public GraphQLExecution(ISchema schema, IDocumentExecuter executer, QueryLimits limits, ILogger<GraphQLExecution> logger)
    {
        (this.schema, this.executer, this.limits, this.logger) = (schema, executer, limits, logger);
        _requestRules = [new QueryCostRule(limits)];
        _getRequestRules = [.. _requestRules, new QueriesOnlyRule()];
        _rules = [.. DocumentValidator.CoreRules, .. _requestRules];
        _getRules = [.. DocumentValidator.CoreRules, .. _getRequestRules];
    }

    /// <param name="requestServices">The request's scope; its <see cref="RequestDatabase"/> holds the transaction.</param>
    /// <param name="allowMutations">False for GET: a mutation is refused with code MUTATION_NOT_ALLOWED before it runs.</param>
    public async Task<ExecutionResult> ExecuteAsync(GraphQLRequest request, IServiceProvider requestServices, bool allowMutations,
        CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(limits.ExecutionTimeoutSeconds));
        var result = await executer.ExecuteAsync(new ExecutionOptions
        {
            Schema = schema,
            Query = request.Query,
            OperationName = request.OperationName,
            Variables = request.Variables,
            Extensions = request.Extensions,
            RequestServices = requestServices,
            CancellationToken = timeout.Token,
            ValidationRules = allowMutations ? _rules : _getRules,
            CachedDocumentValidationRules = allowMutations ? _requestRules : _getRequestRules,
            UnhandledExceptionDelegate = HideDetails,
        });
        if (result.Executed && result.Operation?.Operation == OperationType.Mutation && result.Errors is null or { Count: 0 })
            await requestServices.GetRequiredService<RequestDatabase>().CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>Clients get a code and a plain sentence; the log gets the exception (never the response: no SQL, no stack).</summary>
    private Task HideDetails(UnhandledExceptionContext context)
    {
        var (code, message) = context.OriginalException switch
        {
            PostgresException { SqlState: "57014" } or OperationCanceledException => ("TIMEOUT", "The request took too long and was stopped."),
            NpgsqlException => ("DATABASE_ERROR", "The database could not answer this request."),
            _ => ("INTERNAL_ERROR", "The request failed unexpectedly."),
        };
        logger.LogError(context.OriginalException, "GraphQL field {Path} failed", context.FieldContext?.Path);
        context.Exception = new ExecutionError(message) { Code = code };
        return Task.CompletedTask;
    }
}

/// <summary>GET requests may only read (GraphQL over HTTP: mutations are never executed on GET).</summary>
public sealed class QueriesOnlyRule : ValidationRuleBase
{
    public override ValueTask<INodeVisitor?> GetPreNodeVisitorAsync(ValidationContext context)
    {
        if (context.Operation.Operation != OperationType.Query)
            context.ReportError(new ValidationError($"{context.Operation.Operation.ToString().ToLowerInvariant()} operations are not allowed over GET; use POST")
                { Code = "MUTATION_NOT_ALLOWED" });
        return default;
    }
}
