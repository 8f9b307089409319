namespace WorkflowGraph.Transport.WebSockets;

/// <summary>
/// The operations one connection runs, by the id the client gave each. An id is taken from its <c>subscribe</c> until
/// the operation ends, so a client may reuse it once it has read the operation's last message. Most connections run
/// one operation or a few: a small dictionary under a lock costs them far less than a concurrent one.
/// </summary>
internal sealed class ConnectionOperations
{
    private readonly Dictionary<string, GraphQLWsOperation> _running = new(1, StringComparer.Ordinal);

    public int Count
    {
        get
        {
            lock (_running)
                return _running.Count;
        }
    }

    public bool IsRunning(string id)
    {
        lock (_running)
            return _running.ContainsKey(id);
    }

    public void Add(GraphQLWsOperation operation)
    {
        lock (_running)
            _running[operation.Id] = operation;
    }

    /// <summary>The operation has ended: its id may be used again.</summary>
    public void Forget(GraphQLWsOperation operation)
    {
        lock (_running)
            if (_running.TryGetValue(operation.Id, out var running) && ReferenceEquals(running, operation))
                _running.Remove(operation.Id);
    }

    /// <summary>The client's <c>complete</c>; an operation that has ended already needs nothing.</summary>
    public void Stop(string id)
    {
        GraphQLWsOperation? operation;
        lock (_running)
            _running.TryGetValue(id, out operation);
        operation?.Stop();
    }

    public void StopAll()
    {
        GraphQLWsOperation[] operations;
        lock (_running)
            operations = [.. _running.Values];
        foreach (var operation in operations)
            operation.Stop();
    }
}
