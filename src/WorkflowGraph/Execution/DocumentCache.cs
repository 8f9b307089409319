using System.Collections.Concurrent;
using GraphQL;
using GraphQL.DI;
using GraphQLParser.AST;
using WorkflowGraph.Querying;

namespace WorkflowGraph.Execution;

/// <summary>
/// Dashboards send the same few documents over and over: a document that parsed and validated once is reused
/// without parsing or running the static validation rules again. Rules that depend on the request (variables,
/// transport) are kept: <see cref="ExecutionOptions.CachedDocumentValidationRules"/>.
/// </summary>
public sealed class DocumentCache(int capacity = 1_000, int maxQueryLength = 20_000) : IConfigureExecution
{
    private readonly ConcurrentDictionary<string, GraphQLDocument> _documents = new(StringComparer.Ordinal);

    public float SortOrder => 200;

    public async Task<ExecutionResult> ExecuteAsync(ExecutionOptions options, ExecutionDelegate next)
    {
        var query = options.Query;
        if (options.Document is not null || query is null || query.Length > maxQueryLength)
            return await next(options);
        // the document is (or will be) kept: so may the statements of its root fields be
        options.UserContext[FieldStatements.DocumentKeptKey] = true;

        var cached = _documents.TryGetValue(query, out var document);
        if (cached)
        {
            options.Document = document;
            options.ValidationRules = options.CachedDocumentValidationRules ?? [];
        }
        var result = await next(options);
        if (!cached && result.Executed && result.Document is not null)
        {
            // a simple bound: a full cache starts over rather than tracking recency
            if (_documents.Count >= capacity)
                _documents.Clear();
            _documents.TryAdd(query, result.Document);
        }
        return result;
    }
}
