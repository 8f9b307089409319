using System.Globalization;
using System.Text.Json;
using WorkflowGraph.Querying.Model;

namespace WorkflowGraph.Querying.Plans;

/// <summary>
/// Opaque keyset cursors: base64url of the order's signature and the row's key values. A cursor is only valid
/// for the order it was made in.
/// </summary>
public static class KeysetCursor
{
    public static string Signature(IEnumerable<SortKey> keys) =>
        string.Join(",", keys.Select(k => k.Name + (k.Descending ? ":DESC" : ":ASC")));

    /// <param name="valuesJson">The row's key values as the JSON array PostgreSQL built.</param>
    public static string Encode(string signature, string valuesJson) =>
        Base64Url.Encode($"{{\"o\":{JsonSerializer.Serialize(signature)},\"v\":{valuesJson}}}");

    /// <returns>The key values of the cursor's row, typed for parameters.</returns>
    public static IReadOnlyList<object?> Decode(string cursor, string signature, IReadOnlyList<SortKey> keys)
    {
        if (!Base64Url.TryDecode(cursor, out var text))
            throw QueryErrors.InvalidCursor("the cursor is malformed");
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.GetProperty("o").GetString() != signature)
                throw QueryErrors.InvalidCursor("the cursor belongs to another order; page with the order it was made in");
            var values = root.GetProperty("v");
            if (values.GetArrayLength() != keys.Count)
                throw QueryErrors.InvalidCursor("the cursor is malformed");
            return values.EnumerateArray().Select((v, i) => Read(v, keys[i].Kind)).ToList();
        }
        catch (Exception e) when (e is FormatException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw QueryErrors.InvalidCursor("the cursor is malformed");
        }
    }

    private static object? Read(JsonElement value, ScalarKind kind) => value.ValueKind == JsonValueKind.Null ? null : kind switch
    {
        ScalarKind.Int => value.GetInt32(),
        ScalarKind.Long => value.GetInt64(),
        ScalarKind.Float => value.GetDouble(),
        ScalarKind.Boolean => value.GetBoolean(),
        ScalarKind.Uuid => Guid.Parse(value.GetString()!),
        ScalarKind.DateTime => DateTimeOffset.Parse(value.GetString()!, CultureInfo.InvariantCulture).ToUniversalTime(),
        _ => value.GetString(),
    };
}
