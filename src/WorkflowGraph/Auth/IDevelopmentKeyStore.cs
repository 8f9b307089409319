namespace WorkflowGraph.Auth;

/// <summary>
/// Where development mode keeps the key it generates when neither <c>Auth:SigningKey</c> nor <c>Auth:Authority</c> is
/// set (<c>Development/</c> provides it). Without one registered, such a configuration refuses to start.
/// </summary>
public interface IDevelopmentKeyStore
{
    /// <returns>The key's value (used like Auth:SigningKey) and the file holding it, or null when it lives only in memory.</returns>
    (string Value, string? File) LoadOrCreate(string? configuredFile);
}
