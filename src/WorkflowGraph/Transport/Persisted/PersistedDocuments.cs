using GraphQL;
using GraphQL.Transport;
using GraphQLParser;
using GraphQLParser.AST;
using WorkflowGraph.Transport.Http;

namespace WorkflowGraph.Transport.Persisted;

/// <summary>
/// Turns a request that names its document instead of sending it into one that carries it, before anything runs:
/// a trusted document by <c>documentId</c>, or Apollo's automatic persisted queries
/// (<c>extensions.persistedQuery.sha256Hash</c>: a known hash runs its document; an unknown one answers
/// <c>PERSISTED_QUERY_NOT_FOUND</c> and the client sends the document with the hash once, which registers it). With
/// <see cref="PersistedDocumentOptions.TrustedDocumentsOnly"/> only trusted documents run; in development also
/// introspection and the IDE the service serves (its own origin).
/// </summary>
public sealed class PersistedDocuments(TrustedDocuments trusted, PersistedQueryCache cache, PersistedDocumentOptions options,
    bool development)
{
    public const string NotFoundCode = "PERSISTED_QUERY_NOT_FOUND";
    public const string NotFoundMessage = "PersistedQueryNotFound";

    public TrustedDocuments Trusted => trusted;

    /// <summary>Sets <see cref="GraphQLRequest.Query"/> from the named document; the refusal, or null when the request may run.</summary>
    /// <param name="fromOwnOrigin">Sent by a page of this service (the IDE).</param>
    public HttpProblem? Resolve(GraphQLRequest request, bool fromOwnOrigin)
    {
        if (PersistedQueryHash(request.Extensions, out var hash) is { } badExtension)
            return badExtension;
        if (request.DocumentId is { } id)
        {
            if (request.Query is not null)
                return HttpProblem.BadRequest("INVALID_REQUEST", "Send either documentId or query, not both.");
            request.Query = trusted.Find(id);
            return request.Query is null
                ? HttpProblem.BadRequest("PERSISTED_DOCUMENT_NOT_FOUND", $"No trusted document has the id '{Short(id)}'.")
                : null;
        }
        if (hash is not null)
            return ResolveHash(request, hash, fromOwnOrigin);
        if (request.Query is null)
            return HttpProblem.BadRequest("MISSING_QUERY", "The request has no \"query\", \"documentId\" or persisted query hash.");
        return options.TrustedDocumentsOnly && !RawAllowed(request.Query, fromOwnOrigin) ? TrustedOnly() : null;
    }

    private HttpProblem? ResolveHash(GraphQLRequest request, string hash, bool fromOwnOrigin)
    {
        if (trusted.Find(hash) is { } document)
        {
            if (request.Query is not null && request.Query != document)
                return HashMismatch();
            request.Query = document;
            return null;
        }
        if (request.Query is null)
        {
            request.Query = cache.Find(hash);
            // a GraphQL error, as Apollo's servers answer it, so that clients register the document and retry
            return request.Query is null ? new HttpProblem(StatusCodes.Status200OK, NotFoundCode, NotFoundMessage) : null;
        }
        if (TrustedDocuments.Sha256(request.Query) != hash)
            return HashMismatch();
        if (options.TrustedDocumentsOnly && !RawAllowed(request.Query, fromOwnOrigin))
            return TrustedOnly();
        cache.Add(hash, request.Query);
        return null;
    }

    /// <summary>The hash of <c>extensions.persistedQuery</c> (version 1, 64 hex digits), or a refusal.</summary>
    private static HttpProblem? PersistedQueryHash(Inputs? extensions, out string? hash)
    {
        hash = null;
        if (extensions is null || !extensions.TryGetValue("persistedQuery", out var value) || value is null)
            return null;
        if (value is not IEnumerable<KeyValuePair<string, object?>> pairs || value is string)
            return HttpProblem.BadRequest("INVALID_PARAMETER", "extensions.persistedQuery must be an object.");
        var persisted = pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        if (!persisted.TryGetValue("version", out var version)
            || Convert.ToString(version, System.Globalization.CultureInfo.InvariantCulture) != "1")
            return HttpProblem.BadRequest("PERSISTED_QUERY_NOT_SUPPORTED", "Only version 1 of persisted queries is supported.");
        if (!persisted.TryGetValue("sha256Hash", out var sha) || sha is not string text || text.Length != 64 || !text.All(Uri.IsHexDigit))
            return HttpProblem.BadRequest("INVALID_PARAMETER", "extensions.persistedQuery.sha256Hash must be 64 hex digits.");
        hash = text.ToLowerInvariant();
        return null;
    }

    private bool RawAllowed(string query, bool fromOwnOrigin) => development && (fromOwnOrigin || IsIntrospection(query));

    /// <summary>Every operation selects only meta fields (<c>__schema</c>, <c>__type</c>, <c>__typename</c>).</summary>
    private static bool IsIntrospection(string query)
    {
        try
        {
            var operations = Parser.Parse(query).Definitions.OfType<GraphQLOperationDefinition>().ToList();
            return operations.Count > 0 && operations.All(o => o.SelectionSet.Selections.All(s =>
                s is GraphQLField field && field.Name.StringValue.StartsWith("__", StringComparison.Ordinal)));
        }
        catch (GraphQLParser.Exceptions.GraphQLSyntaxErrorException)
        {
            return false;
        }
    }

    private static HttpProblem HashMismatch() => HttpProblem.BadRequest("PERSISTED_QUERY_HASH_MISMATCH",
        "The document does not match extensions.persistedQuery.sha256Hash (SHA-256 of the UTF-8 document, hex).");

    private static HttpProblem TrustedOnly() => HttpProblem.BadRequest("TRUSTED_DOCUMENT_REQUIRED",
        "This service runs trusted documents only (GraphQL:TrustedDocumentsOnly): send the documentId your build published.");

    private static string Short(string id) => id.Length > 80 ? id[..80] + "…" : id;
}
