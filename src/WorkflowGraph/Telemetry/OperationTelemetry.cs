using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using GraphQL;
using GraphQL.Transport;
using GraphQLParser.AST;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Telemetry;

/// <summary>
/// The span and the measurements of one GraphQL request. The span (<c>graphql.operation</c>, a child of the HTTP
/// request's span, the parent of Npgsql's) carries the operation's name and type, a SHA-256 of the document and the
/// organisation id: never variables, values or the document text, which may hold PHI.
/// </summary>
public sealed class OperationTelemetry : IDisposable
{
    // operation names are chosen by clients: longer ones are one series, so a client cannot grow the metrics at will
    private const int MaxNameLength = 64;

    private readonly Activity? _activity;
    private readonly long _started = Stopwatch.GetTimestamp();

    private OperationTelemetry(Activity? activity) => _activity = activity;

    public static OperationTelemetry Start(GraphQLRequest request, RequestTenant tenant)
    {
        var activity = ServiceTelemetry.Source.StartActivity("graphql.operation");
        if (activity is { IsAllDataRequested: true })
        {
            if (request.Query is { } query)
                activity.SetTag("graphql.document.hash", DocumentHash(query));
            if (tenant.OrgId is { } org)
                activity.SetTag("workflowgraph.org_id", org.ToString());
        }
        return new OperationTelemetry(activity);
    }

    /// <summary>A document that did not parse or validate has no operation: its name and type are not known.</summary>
    public void Finish(ExecutionResult result)
    {
        var operation = result.Operation;
        var type = operation?.Operation switch
        {
            OperationType.Query => "query",
            OperationType.Mutation => "mutation",
            OperationType.Subscription => "subscription",
            _ => "unknown",
        };
        var name = operation is null ? "(invalid)"
            : operation.Name?.StringValue is { Length: > 0 } given ? given.Length <= MaxNameLength ? given : "(long name)"
            : "(anonymous)";
        var outcome = !result.Executed ? "invalid" : result.Errors is { Count: > 0 } ? "error" : "ok";
        foreach (var error in result.Errors ?? [])
            ServiceTelemetry.Errors.Add(1, new KeyValuePair<string, object?>("error.code", error.Code ?? "(none)"));
        ServiceTelemetry.RequestDuration.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds,
            new("graphql.operation.name", name), new("graphql.operation.type", type), new("outcome", outcome));
        if (_activity is null)
            return;
        var named = operation?.Name?.StringValue is { Length: > 0 };
        _activity.DisplayName = named ? $"{type} {name}" : type;
        _activity.SetTag("graphql.operation.name", named ? name : null);
        _activity.SetTag("graphql.operation.type", type);
        if (outcome != "ok")
        {
            _activity.SetStatus(ActivityStatusCode.Error, outcome);
            _activity.SetTag("error.type", result.Errors?.FirstOrDefault()?.Code ?? outcome);
        }
    }

    public void Dispose() => _activity?.Dispose();

    /// <summary>The SHA-256 of a document, as spans and the PHI access audit record it.</summary>
    public static string DocumentHash(string document) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(document)));
}
