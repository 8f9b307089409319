namespace WorkflowGraph.Transport.Persisted;

/// <summary>Persisted documents: the <c>GraphQL</c> section's keys for trusted documents and automatic persisted queries.</summary>
public sealed class PersistedDocumentOptions
{
    /// <summary>A JSON manifest of document id → document, as graphql-codegen's client preset or relay-compiler write it.</summary>
    public string? TrustedDocumentsPath { get; set; }

    /// <summary>Run only the manifest's documents (in development, introspection and the IDE keep working).</summary>
    public bool TrustedDocumentsOnly { get; set; }

    /// <summary>A larger manifest stops the service at startup.</summary>
    public long MaxTrustedDocumentsBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Documents registered through automatic persisted queries that the service remembers (least recently used go).</summary>
    public int PersistedQueryCacheSize { get; set; } = 1000;
}
