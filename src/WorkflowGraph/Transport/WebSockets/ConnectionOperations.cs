using System.Collections.Concurrent;

namespace WorkflowGraph.Transport.WebSockets;

/// <summary>
/// The operations one connection runs, by the id the client gave each. An id is taken from its <c>subscribe</c> until
/// the operation ends, so a client may reuse it once it has read the operation's last message.
/// </summary>
internal sealed class ConnectionOperations
{
    private readonly ConcurrentDictionary<string, GraphQLWsOperation> _running = new(StringComparer.Ordinal);

    public int Count => _running.Count;

    public bool IsRunning(string id) => _running.ContainsKey(id);

    public void Add(GraphQLWsOperation operation) => _running[operation.Id] = operation;

    /// <summary>The operation has ended: its id may be used again.</summary>
    public void Forget(GraphQLWsOperation operation) => _running.TryRemove(new(operation.Id, operation));

    /// <summary>The client's <c>complete</c>; an operation that has ended already needs nothing.</summary>
    public void Stop(string id)
    {
        if (_running.TryGetValue(id, out var operation))
            operation.Stop();
    }

    public void StopAll()
    {
        foreach (var operation in _running.Values)
            operation.Stop();
    }
}
