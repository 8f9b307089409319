using System.Text.Json;

namespace WorkflowGraph.Tests.Infrastructure;

public static class GraphQLErrors
{
    /// <summary>
    /// The <c>extensions.code</c> of each error in a response's or payload's <c>errors</c> (or in an error list), null
    /// for an error without one.
    /// </summary>
    public static IEnumerable<string?> Codes(JsonElement payloadOrErrors)
    {
        var errors = payloadOrErrors.ValueKind == JsonValueKind.Array ? payloadOrErrors
            : payloadOrErrors.TryGetProperty("errors", out var list) ? list : default;
        if (errors.ValueKind != JsonValueKind.Array)
            return [];
        return errors.EnumerateArray().Select(Code).ToList();
    }

    private static string? Code(JsonElement error) =>
        error.TryGetProperty("extensions", out var extensions) && extensions.TryGetProperty("code", out var code)
            ? code.GetString()
            : null;
}
