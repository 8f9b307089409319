using System.Text.Json;

namespace WorkflowGraph.Tests.Mutations;

/// <summary>The first entry of a mutation payload's <c>errors</c> list, as the tests check it.</summary>
internal static class PayloadErrors
{
    /// <summary>The first error's type (<c>__typename</c>), or null when the payload has no errors.</summary>
    public static string? ErrorType(JsonElement payload) =>
        payload.GetProperty("errors").ValueKind == JsonValueKind.Array
            ? payload.GetProperty("errors")[0].GetProperty("__typename").GetString()
            : null;

    /// <summary>The first field a ValidationError names.</summary>
    public static string? ErrorField(JsonElement payload) =>
        payload.GetProperty("errors")[0].GetProperty("fields")[0].GetProperty("field").GetString();
}
