using System.Text;

namespace WorkflowGraph.Querying;

/// <summary>
/// Unpadded base64url (RFC 4648 §5) of UTF-8 text: the form of the opaque cursors the API hands out, safe in a URL
/// and in a GraphQL string without escaping.
/// </summary>
public static class Base64Url
{
    public static string Encode(string text) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The text <see cref="Encode"/> made (padding may be present or not); false when it is not base64.</summary>
    public static bool TryDecode(string encoded, out string text)
    {
        var base64 = encoded.Replace('-', '+').Replace('_', '/');
        try
        {
            text = Encoding.UTF8.GetString(Convert.FromBase64String(base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=')));
            return true;
        }
        catch (FormatException)
        {
            text = "";
            return false;
        }
    }
}
