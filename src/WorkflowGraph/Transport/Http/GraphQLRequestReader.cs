using System.Text.Json;
using System.Text.Unicode;
using GraphQL;
using GraphQL.Transport;

namespace WorkflowGraph.Transport.Http;

/// <summary>
/// Turns a POST body or GET query string into a <see cref="GraphQLRequest"/>, or says precisely what is wrong with
/// it. The body is parsed as a JSON document first (not bound to the request type directly) so that a number where
/// the query belongs, or a string where variables belong, is a 400 naming the parameter instead of a generic failure.
/// </summary>
public sealed class GraphQLRequestReader(IGraphQLTextSerializer serializer, TransportLimits limits)
{
    public async Task<(GraphQLRequest? Request, HttpProblem? Problem)> ReadPostAsync(HttpRequest http, CancellationToken cancellationToken)
    {
        if (!RequestContentType.IsJson(http.ContentType))
            return (null, HttpProblem.UnsupportedMediaType(http.ContentType));
        if (http.ContentLength > limits.MaxRequestBytes)
            return (null, HttpProblem.TooLarge(limits.MaxRequestBytes));
        var body = await RequestBody.ReadAsync(http.Body, limits.MaxRequestBytes, cancellationToken);
        if (body is null)
            return (null, HttpProblem.TooLarge(limits.MaxRequestBytes));
        if (body.Length == 0)
            return Invalid("INVALID_REQUEST", "The request body is empty; send {\"query\": \"...\"}.");

        // System.Text.Json checks a string's UTF-8 only when it is read, too late for a 400
        if (!Utf8.IsValid(body))
            return Invalid("INVALID_ENCODING", "The request body is not valid UTF-8.");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException error)
        {
            return Invalid("INVALID_JSON", $"The request body is not valid JSON: {error.Message}");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return Invalid("INVALID_REQUEST", "The request body must be a JSON object with a \"query\" (batches are not supported).");
            return FromJson(document.RootElement);
        }
    }

    /// <summary>GET: <c>query</c> and <c>operationName</c> as they are, <c>variables</c> and <c>extensions</c> as JSON text.</summary>
    public (GraphQLRequest? Request, HttpProblem? Problem) ReadGet(IQueryCollection parameters)
    {
        string[] names = ["query", "operationName", "variables", "extensions", "documentId"];
        if (names.FirstOrDefault(name => parameters[name].Count > 1) is { } repeated)
            return Invalid("INVALID_PARAMETER", $"The {repeated} parameter is given more than once.");
        var query = NullIfEmpty(parameters["query"].ToString());
        var documentId = NullIfEmpty(parameters["documentId"].ToString());
        // a persisted document (documentId, or a hash in extensions) stands in for the query
        if (query is null && documentId is null && parameters["extensions"].ToString().Length == 0)
            return Invalid("MISSING_QUERY", "The query parameter is missing; send ?query=<GraphQL document> or ?documentId=<id>.");

        var request = new GraphQLRequest
        {
            Query = query,
            DocumentId = documentId,
            OperationName = NullIfEmpty(parameters["operationName"].ToString()),
        };
        if (ParseMap(parameters["variables"].ToString(), "variables", out var variables) is { } badVariables)
            return (null, badVariables);
        if (ParseMap(parameters["extensions"].ToString(), "extensions", out var extensions) is { } badExtensions)
            return (null, badExtensions);
        request.Variables = variables;
        request.Extensions = extensions;
        return (request, null);
    }

    private (GraphQLRequest?, HttpProblem?) FromJson(JsonElement body)
    {
        var hasQuery = body.TryGetProperty("query", out var query) && query.ValueKind != JsonValueKind.Null;
        var hasDocumentId = body.TryGetProperty("documentId", out var documentId) && documentId.ValueKind != JsonValueKind.Null;
        // a persisted document (documentId, or a hash in extensions) stands in for the query
        if (!hasQuery && !hasDocumentId && !(body.TryGetProperty("extensions", out var named) && named.ValueKind == JsonValueKind.Object))
            return Invalid("MISSING_QUERY", "The request has no \"query\"; send {\"query\": \"...\"} or {\"documentId\": \"...\"}.");
        if (hasQuery && query.ValueKind != JsonValueKind.String)
            return (null, WrongType("query", "a string"));
        if (hasDocumentId && documentId.ValueKind != JsonValueKind.String)
            return (null, WrongType("documentId", "a string"));

        var request = new GraphQLRequest
        {
            Query = hasQuery ? query.GetString() : null,
            DocumentId = hasDocumentId ? documentId.GetString() : null,
        };
        if (body.TryGetProperty("operationName", out var operationName) && operationName.ValueKind != JsonValueKind.Null)
        {
            if (operationName.ValueKind != JsonValueKind.String) return (null, WrongType("operationName", "a string or null"));
            request.OperationName = NullIfEmpty(operationName.GetString());
        }
        if (ReadMap(body, "variables", out var variables) is { } badVariables) return (null, badVariables);
        if (ReadMap(body, "extensions", out var extensions) is { } badExtensions) return (null, badExtensions);
        request.Variables = variables;
        request.Extensions = extensions;
        return (request, null);
    }

    private HttpProblem? ReadMap(JsonElement body, string name, out Inputs? inputs)
    {
        inputs = null;
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return ToInputs(value, name, out inputs);
    }

    private HttpProblem? ParseMap(string text, string name, out Inputs? inputs)
    {
        inputs = null;
        if (text.Length == 0) return null;
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Null ? null : ToInputs(document.RootElement, name, out inputs);
        }
        catch (JsonException error)
        {
            return HttpProblem.BadRequest("INVALID_PARAMETER", $"The {name} parameter is not valid JSON: {error.Message}");
        }
    }

    private HttpProblem? ToInputs(JsonElement value, string name, out Inputs? inputs)
    {
        inputs = null;
        if (value.ValueKind != JsonValueKind.Object) return WrongType(name, "a JSON object or null");
        try
        {
            inputs = serializer.ReadNode<Inputs>(value);
            return null;
        }
        catch (Exception error) when (error is JsonException or FormatException or OverflowException)
        {
            return HttpProblem.BadRequest("INVALID_PARAMETER", $"\"{name}\" could not be read: {error.Message}");
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static HttpProblem WrongType(string name, string expected) =>
        HttpProblem.BadRequest("INVALID_PARAMETER", $"\"{name}\" must be {expected}.");

    private static (GraphQLRequest?, HttpProblem?) Invalid(string code, string message) => (null, HttpProblem.BadRequest(code, message));
}
