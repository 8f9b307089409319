using System.Text.Json;
using Microsoft.Extensions.Primitives;

namespace WorkflowGraph.Transport.WebSockets;

/// <summary>
/// The <c>Authorization</c> value a <c>connection_init</c> payload carries, as <c>{"Authorization": "Bearer …"}</c>
/// (DESIGN.md) or nested as <c>{"headers": {"Authorization": …}}</c>. Names are matched ignoring case: Banana Cake Pop
/// sends its document's HTTP headers as the payload, and a browser's <c>Headers</c> hands them over lower-cased.
/// </summary>
public static class ConnectionAuthorization
{
    private const string Name = "Authorization";

    /// <returns>The value; empty when the payload has none (the authenticator refuses that as missing), and more than
    /// one value when names differing only in case repeat it (refused too).</returns>
    public static StringValues From(JsonElement payload)
    {
        if (payload.ValueKind != JsonValueKind.Object)
            return StringValues.Empty;
        var values = Values(payload, Name);
        if (values.Count > 0)
            return values;
        foreach (var headers in payload.EnumerateObject())
            if (string.Equals(headers.Name, "headers", StringComparison.OrdinalIgnoreCase)
                && headers.Value.ValueKind == JsonValueKind.Object)
                values = StringValues.Concat(values, Values(headers.Value, Name));
        return values;
    }

    /// <summary>A value that is not a string counts as an empty one.</summary>
    private static StringValues Values(JsonElement element, string name)
    {
        var values = StringValues.Empty;
        foreach (var property in element.EnumerateObject())
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
                values = StringValues.Concat(values, property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : "");
        return values;
    }
}
