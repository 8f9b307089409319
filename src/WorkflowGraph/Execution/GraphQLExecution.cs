using GraphQL;
using GraphQL.Execution;
using GraphQL.Transport;
using GraphQL.Types;
using GraphQL.Validation;
using GraphQLParser.AST;
using GraphQLParser.Exceptions;
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
    private readonly Dictionary<GraphQLTransport, (IValidationRule[] All, PerRequestRules PerRequest)> _rules = [];

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
        {
            // the cost rule first: it refuses a document that expands too far before the other rules walk the expansion
            _rules[transport] = ([.. perRequest, .. DocumentValidator.CoreRules], new PerRequestRules(perRequest));
        }
    }

    /// <param name="requestServices">The request's scope; its <see cref="RequestDatabase"/> holds the transaction.</param>
    /// <param name="transport">Decides the operation types that may run: the others are refused before they run,
    /// a mutation over GET with code MUTATION_NOT_ALLOWED, a subscription over HTTP with SUBSCRIPTION_NOT_ALLOWED.</param>
    /// <param name="cancellationToken">For a subscription, it bounds setting up the stream (and a replay's first
    /// read), not the stream's life: the caller ends the stream by disposing its subscription.</param>
    public async Task<ExecutionResult> ExecuteAsync(GraphQLRequest request, IServiceProvider requestServices, GraphQLTransport transport,
        CancellationToken cancellationToken)
    {
        using var telemetry = OperationTelemetry.Start(request, requestServices.GetRequiredService<RequestTenant>());
        var result = await ExecuteWithinLimitsAsync(request, requestServices, transport, cancellationToken);
        telemetry.Finish(result);
        return result;
    }

    /// <summary>Parsing, validation and execution within the timeout (and stopped when the client goes away), the response
    /// size checked, then the commit.</summary>
    private async Task<ExecutionResult> ExecuteWithinLimitsAsync(GraphQLRequest request, IServiceProvider requestServices,
        GraphQLTransport transport, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(_limits.ExecutionTimeoutSeconds));
        ExecutionResult result;
        try
        {
            result = await RunAsync(request, requestServices, transport, timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return Failed(Timeout);
        }
        if (!result.Executed || result.Operation?.Operation == OperationType.Subscription)
            return result;
        var size = ResponseSize.Of(result);
        if (size > _limits.MaxResponseBytes)
            // a mutation's writes are not committed: the transaction rolls back when the request's scope ends
            return Failed(TooLarge(size));
        var database = requestServices.GetRequiredService<RequestDatabase>();
        var commits = result.Operation?.Operation == OperationType.Mutation && result.Errors is null or { Count: 0 };
        if (!database.PhiAccess.IsEmpty)
        {
            try
            {
                // a read that cannot be audited is not answered
                commits |= await database.RecordPhiAccessAsync(OperationName(result), OperationTelemetry.DocumentHash(request.Query ?? ""),
                    commits, cancellationToken);
            }
            catch (Exception error) when (error is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                _logger.LogWarning("Recording a PHI access failed; the response is withheld: {Reason}", error.Message);
                return Failed(AuditFailed(error));
            }
        }
        if (commits)
        {
            try
            {
                await database.CommitAsync(cancellationToken);
            }
            catch (Exception error) when (error is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                _logger.LogWarning("Committing a mutation failed: {Reason}", error.Message);
                return Failed(DatabaseUnavailable(error) ? CommitLost : CommitFailed);
            }
        }
        return result;
    }

    public const string DatabaseUnavailableCode = "DATABASE_UNAVAILABLE";

    private static ExecutionError Timeout => new("The request took too long and was stopped.") { Code = "TIMEOUT" };

    private static ExecutionError CommitLost => new(
        "The database went away before the changes were committed; they were not saved. Try again.")
    {
        Code = DatabaseUnavailableCode,
        Extensions = Retryable,
    };

    private static ExecutionError CommitFailed =>
        new("The changes could not be committed; they were not saved.") { Code = "DATABASE_ERROR" };

    private ExecutionError TooLarge(long size) => new(
        $"The response would be at least {size} bytes, more than the {_limits.MaxResponseBytes} allowed " +
        "(GraphQL:MaxResponseBytes); ask for fewer rows or fields.")
    {
        Code = "RESPONSE_TOO_LARGE",
    };

    private static ExecutionError AuditFailed(Exception error) => new(
        "The response holds protected health information and its access could not be recorded, so it is not given.")
    {
        Code = "PHI_AUDIT_FAILED",
        Extensions = DatabaseUnavailable(error) ? Retryable : null,
    };

    /// <summary>The operation's name as the document gives it (bounded as the audit stores it), or null when anonymous.</summary>
    private static string? OperationName(ExecutionResult result) =>
        result.Operation?.Name?.StringValue is { Length: > 0 } name ? name.Length <= 200 ? name : name[..200] : null;

    private static Dictionary<string, object?> Retryable => new() { ["retryable"] = true };

    private static bool DatabaseUnavailable(Exception error) =>
        DatabaseFailures.IsUnavailable(error) || error.InnerException is { } inner && DatabaseFailures.IsUnavailable(inner);

    /// <summary>A request that ran but has no data to give: the one error says why (and nothing is committed).</summary>
    private static ExecutionResult Failed(ExecutionError error) => new() { Executed = true, Data = null, Errors = [error] };

    private Task<ExecutionResult> RunAsync(GraphQLRequest request, IServiceProvider requestServices, GraphQLTransport transport,
        CancellationToken cancellationToken)
    {
        var (rules, perRequestRules) = _rules[transport];
        return _executer.ExecuteAsync(new ExecutionOptions
        {
            Schema = _schema,
            Query = request.Query,
            OperationName = request.OperationName,
            Variables = request.Variables,
            Extensions = request.Extensions,
            RequestServices = requestServices,
            CancellationToken = cancellationToken,
            ValidationRules = rules,
            CachedDocumentValidationRules = perRequestRules,
            UnhandledExceptionDelegate = HideDetails,
            Listeners = { ReplicaRouting.Instance },
        });
    }

    private const string PhiForbiddenState = "WFP01";

    /// <summary>Clients get a code and a plain sentence; the log gets the exception (never the response: no SQL, no stack).</summary>
    private Task HideDetails(UnhandledExceptionContext context)
    {
        var original = context.OriginalException;
        if (original is GraphQLMaxDepthExceededException)
        {
            // a client's mistake (literals or selections nested past the parser's bound): no stack trace in the log
            _logger.LogInformation("A document nested deeper than the parser allows was refused");
            context.Exception = new ExecutionError(
                "The document nests deeper than the parser allows (selections, lists and objects together).")
            {
                Code = "MAX_DEPTH_EXCEEDED",
            };
            return Task.CompletedTask;
        }
        var (code, message) = original switch
        {
            PostgresException { SqlState: "57014" } or OperationCanceledException or TimeoutException =>
                ("TIMEOUT", "The request took too long and was stopped."),
            _ when DatabaseUnavailable(original) =>
                (DatabaseUnavailableCode, "The database is not available right now; nothing was saved. Try again shortly."),
            // a filter or order by an identifier the organisation classifies as PHI, without the phi:read scope (db/migrations/036)
            PostgresException { SqlState: PhiForbiddenState } refused => ("FORBIDDEN", refused.MessageText),
            NpgsqlException => ("DATABASE_ERROR", "The database could not answer this request."),
            _ => ("INTERNAL_ERROR", "The request failed unexpectedly."),
        };
        if (code == "FORBIDDEN")
            _logger.LogInformation("GraphQL field {Path} was refused: {Reason}", context.FieldContext?.Path, original.Message);
        else if (code == DatabaseUnavailableCode)
            _logger.LogWarning("GraphQL field {Path}: the database is unavailable: {Reason}", context.FieldContext?.Path, original.Message);
        else
            _logger.LogError(original, "GraphQL field {Path} failed", context.FieldContext?.Path);
        context.Exception = new ExecutionError(message) { Code = code, Extensions = code == DatabaseUnavailableCode ? Retryable : null };
        return Task.CompletedTask;
    }
}
