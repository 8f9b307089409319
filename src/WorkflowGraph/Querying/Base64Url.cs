using System.Text;

namespace WorkflowGraph.Querying;

/// <summary>The URL-safe, unpadded base64 of opaque cursors (RFC 4648 §5), over UTF-8 text.</summary>
public static class Base64Url
{
    public static string Encode(string text) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <returns>False when <paramref name="encoded"/> is not base64url of UTF-8 text.</returns>
    public static bool TryDecode(string encoded, out string text)
    {
        text = "";
        var base64 = encoded.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Convert.FromBase64String(base64));
            return true;
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return false;
        }
    }
}
