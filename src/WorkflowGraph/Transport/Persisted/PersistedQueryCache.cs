namespace WorkflowGraph.Transport.Persisted;

/// <summary>
/// Documents registered by automatic persisted queries (Apollo's protocol), by SHA-256: at most
/// <see cref="PersistedDocumentOptions.PersistedQueryCacheSize"/>, the least recently used leaving first. A miss only
/// costs the client one retry with the document, so nothing here needs to survive a restart.
/// </summary>
public sealed class PersistedQueryCache(int capacity)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<(string Hash, string Document)>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Hash, string Document)> _recent = new();

    public int Count
    {
        get
        {
            lock (_lock)
                return _entries.Count;
        }
    }

    public string? Find(string hash)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(hash, out var node))
                return null;
            _recent.Remove(node);
            _recent.AddFirst(node);
            return node.Value.Document;
        }
    }

    public void Add(string hash, string document)
    {
        if (capacity <= 0)
            return;
        lock (_lock)
        {
            if (_entries.TryGetValue(hash, out var existing))
                _recent.Remove(existing);
            else if (_entries.Count >= capacity && _recent.Last is { } oldest)
            {
                _recent.RemoveLast();
                _entries.Remove(oldest.Value.Hash);
            }
            _entries[hash] = _recent.AddFirst((hash, document));
        }
    }
}
