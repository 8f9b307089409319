using System.Globalization;
using GraphQL;
using WorkflowGraph.Querying.Fragments;

namespace WorkflowGraph.Querying.Model;

/// <summary>
/// Opaque global ids (the Global Object Identification specification): unpadded base64url of
/// <c>&lt;TypeName&gt;:&lt;key&gt;</c>, a composite key's parts joined by ':' (only the last part may contain one).
/// PostgreSQL writes them while it builds the response JSON (<see cref="Expression"/>); the service reads them once, when an
/// argument, input field or filter hands one back (<see cref="Decode(object?, EntityMap)"/>). Only the ids the API hands out are accepted:
/// anything else, or an id of another type, is an INVALID_ID error before any SQL runs.
/// </summary>
public static class GlobalId
{
    public const string InvalidIdCode = "INVALID_ID";

    /// <summary>The id of the row whose key parts are <paramref name="parts"/> (SQL values of any type with a text form).</summary>
    public static Sql Expression(string typeName, IReadOnlyList<Sql> parts)
    {
        // type names are GraphQL names ([_A-Za-z][_0-9A-Za-z]*): safe between quotes
        var text = Sql.Of($"{Sql.Raw("'" + typeName + ":'")} || {Sql.Join(" || ':' || ", parts)}");
        return Base64Url.EncodeSql(text);
    }

    public static string Encode(string typeName, params string[] parts) => Base64Url.Encode(typeName + ":" + string.Join(':', parts));

    /// <summary>The type name and key text of an id the API handed out; false for anything else.</summary>
    public static bool TryParse(object? value, out string typeName, out string key)
    {
        typeName = key = "";
        if (value is not string id || id.Length is 0 or > 512 || !Base64Url.TryDecode(id, out var text))
            return false;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == text.Length - 1)
            return false;
        typeName = text[..colon];
        key = text[(colon + 1)..];
        // one spelling per object: the canonical encoding only (no padding, no other alphabet)
        return Base64Url.Encode(text) == id;
    }

    /// <summary>The database key of <paramref name="map"/>'s row that <paramref name="value"/> identifies (null stays null).</summary>
    /// <exception cref="ExecutionError">INVALID_ID: not an id the API handed out, or the id of another type.</exception>
    public static object? Decode(object? value, EntityMap map) =>
        Decode(value, map.TypeName, (map.IdColumn ?? throw new InvalidOperationException($"{map.TypeName} is not a Node")).Kind);

    /// <summary>The key of kind <paramref name="kind"/> in an id of <paramref name="typeName"/> (null stays null).</summary>
    /// <exception cref="ExecutionError">INVALID_ID: not an id the API handed out, or the id of another type.</exception>
    public static object? Decode(object? value, string typeName, ScalarKind kind)
    {
        if (value is null)
            return null;
        if (!TryParse(value, out var actualType, out var key))
            throw Invalid($"{Describe(value)} is not an id of this API");
        if (actualType != typeName)
            throw Invalid($"{Describe(value)} is the id of a {actualType}, not of a {typeName}");
        return ParseKey(key, kind) ?? throw Invalid($"{Describe(value)} is not an id of this API");
    }

    /// <summary>The key text of a single-column id as the CLR value of <paramref name="kind"/>; null when it is not canonical.</summary>
    public static object? ParseKey(string key, ScalarKind kind) => kind switch
    {
        ScalarKind.Long when long.TryParse(key, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)
            && l.ToString(CultureInfo.InvariantCulture) == key => l,
        ScalarKind.Int when int.TryParse(key, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i)
            && i.ToString(CultureInfo.InvariantCulture) == key => i,
        ScalarKind.Uuid when Guid.TryParseExact(key, "D", out var g) && g.ToString("D") == key => g,
        _ => null,
    };

    public static ExecutionError Invalid(string message) => new(message) { Code = InvalidIdCode };

    /// <summary>A value quoted for an error message, cut short.</summary>
    public static string Describe(object? value) =>
        value is string s
            ? "\"" + (s.Length > 40 ? s[..40] + "…" : s) + "\""
            : Convert.ToString(value, CultureInfo.InvariantCulture) ?? "null";
}
