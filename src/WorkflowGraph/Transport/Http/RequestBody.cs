using System.Buffers;

namespace WorkflowGraph.Transport.Http;

/// <summary>
/// Reads a request body up to a limit. Content-Length alone is not enough: a chunked body has none, so the limit is
/// enforced on the bytes actually read, and reading stops as soon as it is passed.
/// </summary>
public static class RequestBody
{
    /// <returns>The body, or null when it is longer than <paramref name="limit"/> bytes.</returns>
    public static async Task<byte[]?> ReadAsync(Stream body, long limit, CancellationToken cancellationToken)
    {
        using var content = new MemoryStream();
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                if (content.Length + read > limit) return null;
                content.Write(buffer, 0, read);
            }
            return content.ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
