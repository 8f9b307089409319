using GraphQL;
using GraphQL.Transport;
using WorkflowGraph.Execution;
using WorkflowGraph.Tenancy;
using static WorkflowGraph.Transport.WebSockets.GraphQLWsProtocol;

namespace WorkflowGraph.Transport.WebSockets;

/// <summary>
/// One <c>subscribe</c> of a connection: a query or mutation answers <c>next</c> then <c>complete</c>; a subscription
/// answers a <c>next</c> per stream item and <c>complete</c> when the stream ends; a request that does not validate
/// answers <c>error</c>. It runs in a DI scope of its own (its database session and tenant), released when the
/// operation ends, the client completes it, or the connection closes — a subscription's as soon as its stream is set up,
/// since the stream holds what it needs and an idle subscriber should cost no more than that; after <see cref="Stop"/>
/// nothing more is sent.
/// </summary>
internal sealed class GraphQLWsOperation(string id, GraphQLWsConnection connection) : IObserver<ExecutionResult>
{
    private readonly CancellationTokenSource _cancellation = new();
    // OnNext calls come one at a time, in order; the lock orders them against Stop and the end of the stream
    private readonly Lock _gate = new();
    private bool _ended;
    // while the request executes, the scope is in use and only RunAsync may dispose it
    private bool _executing = true;
    private IDisposable? _subscription;
    private AsyncServiceScope? _scope;

    public string Id => id;

    public async Task RunAsync(GraphQLRequest request)
    {
        var scope = connection.Services.ScopeFactory.CreateAsyncScope();
        lock (_gate) _scope = scope;
        var streaming = false;
        try
        {
            // The scope's tenant comes from the connection's HttpContext: taken now, while this call's context flows it,
            // rather than on the thread that later delivers events.
            scope.ServiceProvider.GetRequiredService<RequestTenant>();
            var result = await connection.Services.Execution.ExecuteAsync(request, scope.ServiceProvider,
                GraphQLTransport.WebSocket, _cancellation.Token);
            if (!result.Executed)
                End(new OperationMessage { Id = id, Type = Error, Payload = result.Errors?.ToArray() ?? [] });
            else if (result.Streams is { Count: > 0 } streams)
                streaming = Attach(streams.Values.Single().Subscribe(this));
            else
                Answer(result);
        }
        catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
        {
            // completed by the client or the connection: nothing more to say
        }
        catch (Exception error)
        {
            connection.Services.Logger.LogError(error, "WebSocket operation {Id} failed", id);
            End(ErrorMessage(new ExecutionError("The request failed unexpectedly.") { Code = "INTERNAL_ERROR" }));
        }
        finally
        {
            bool dispose;
            lock (_gate)
            {
                _executing = false;
                dispose = _ended || streaming;
                if (dispose)
                    _scope = null;
            }
            if (dispose)
                await DisposeAsync(null, scope);
        }
    }

    public void OnNext(ExecutionResult value)
    {
        lock (_gate)
        {
            if (!_ended)
                connection.Send(new OperationMessage { Id = id, Type = Next, Payload = value });
        }
    }

    public void OnCompleted() => End(new OperationMessage { Id = id, Type = Complete });

    /// <summary>The protocol's <c>error</c> ends the operation (no <c>complete</c> follows).</summary>
    public void OnError(Exception error) => End(ErrorMessage(error as ExecutionError
        ?? new ExecutionError("The subscription's event stream failed.") { Code = "INTERNAL_ERROR" }));

    /// <summary>Ends the operation without a word to the client (it completed it, or the connection is closing).</summary>
    public void Stop() => Release(null);

    /// <summary>A query's or mutation's one result.</summary>
    private void Answer(ExecutionResult result)
    {
        lock (_gate)
        {
            if (_ended)
                return;
            connection.Send(new OperationMessage { Id = id, Type = Next, Payload = result });
        }
        End(new OperationMessage { Id = id, Type = Complete });
    }

    /// <returns>True when the stream is attached (it runs on without the scope).</returns>
    private bool Attach(IDisposable subscription)
    {
        lock (_gate)
        {
            if (!_ended)
            {
                _subscription = subscription;
                return true;
            }
        }
        // the stream ended (or the client completed it) before Subscribe returned
        subscription.Dispose();
        return false;
    }

    private OperationMessage ErrorMessage(ExecutionError error) => new() { Id = id, Type = Error, Payload = new[] { error } };

    /// <summary>The server's end of the operation: its last message, unless the client or the connection ended it first.</summary>
    private void End(OperationMessage last) => Release(last);

    private void Release(OperationMessage? last)
    {
        IDisposable? subscription;
        AsyncServiceScope? scope;
        lock (_gate)
        {
            if (_ended)
                return;
            _ended = true;
            // The id is free again before the client can read the last message and reuse it.
            connection.Forget(this);
            if (last is not null)
                connection.Send(last);
            subscription = _subscription;
            scope = _executing ? null : _scope;
            (_subscription, _scope) = (null, _executing ? _scope : null);
        }
        _cancellation.Cancel();
        if (subscription is not null || scope is not null)
            // Off the caller's thread: it may be the one that distributes events, and closing the scope's database
            // session is I/O.
            _ = Task.Run(() => DisposeAsync(subscription, scope));
    }

    private async Task DisposeAsync(IDisposable? subscription, AsyncServiceScope? scope)
    {
        try
        {
            subscription?.Dispose();
            if (scope is { } owned)
                await owned.DisposeAsync();
        }
        catch (Exception error)
        {
            connection.Services.Logger.LogWarning(error, "Releasing WebSocket operation {Id} failed", id);
        }
    }
}
