using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace WorkflowGraph.Transport.Persisted;

/// <summary>
/// The documents a front-end build published: a JSON object of id → document text (graphql-codegen's client preset
/// <c>persisted-documents.json</c>, relay-compiler's query map). Each id is the document's SHA-256 (64 hex digits,
/// optionally <c>sha256:</c>-prefixed) or MD5 (32, Relay's default), and must match it: a manifest that does not is
/// refused at startup, as is one above <see cref="PersistedDocumentOptions.MaxTrustedDocumentsBytes"/>.
/// </summary>
public sealed class TrustedDocuments
{
    private readonly Dictionary<string, string> _byHash;

    public TrustedDocuments(IReadOnlyDictionary<string, string> documents)
    {
        _byHash = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (id, document) in documents)
        {
            var hash = HashOf(id) ?? throw new InvalidOperationException(
                $"trusted document id '{Short(id)}' is not a SHA-256 or MD5 hash of its document (hex, optionally sha256:-prefixed)");
            var actual = hash.Length == 64 ? Sha256(document) : Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(document)));
            if (actual != hash)
                throw new InvalidOperationException(
                    $"trusted document '{Short(id)}' does not match its hash (the document hashes to {actual})");
            _byHash[hash] = document;
        }
    }

    public static TrustedDocuments Empty { get; } = new(new Dictionary<string, string>());

    public int Count => _byHash.Count;

    /// <summary>The document an id names (<c>sha256:hex</c>, or the hex alone), or null.</summary>
    public string? Find(string? id) => id is not null && HashOf(id) is { } hash ? _byHash.GetValueOrDefault(hash) : null;

    public static string Sha256(string document) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(document)));

    /// <exception cref="InvalidOperationException">The manifest is missing, too large, not an object of strings, or lies.</exception>
    public static TrustedDocuments Load(string path, long maxBytes)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
            throw new InvalidOperationException($"GraphQL:TrustedDocumentsPath names {path}, which does not exist");
        if (file.Length > maxBytes)
            throw new InvalidOperationException(
                $"the trusted documents manifest {path} is {file.Length} bytes, above GraphQL:MaxTrustedDocumentsBytes ({maxBytes})");
        Dictionary<string, string>? documents;
        try
        {
            documents = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllBytes(path));
        }
        catch (JsonException error)
        {
            throw new InvalidOperationException(
                $"the trusted documents manifest {path} is not a JSON object of id → document: {error.Message}");
        }
        return new TrustedDocuments(documents ?? []);
    }

    /// <summary>The lower-case hex hash an id carries, or null when it is not one.</summary>
    private static string? HashOf(string id)
    {
        var hex = id.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase) ? id[7..] : id;
        if (hex.Length is not (64 or 32) || !hex.All(Uri.IsHexDigit))
            return null;
        return id.Length != hex.Length && hex.Length != 64 ? null : hex.ToLowerInvariant();
    }

    private static string Short(string id) => id.Length > 80 ? id[..80] + "…" : id;
}
