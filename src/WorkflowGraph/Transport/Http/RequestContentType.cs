using Microsoft.Net.Http.Headers;

namespace WorkflowGraph.Transport.Http;

/// <summary>POST bodies are JSON in UTF-8 (GraphQL over HTTP); anything else is a 415, so nothing is guessed.</summary>
public static class RequestContentType
{
    public static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var type)
        && type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        && (!type.Charset.HasValue || type.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));
}
