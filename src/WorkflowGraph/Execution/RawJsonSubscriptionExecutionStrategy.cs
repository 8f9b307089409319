using GraphQL;
using GraphQL.Execution;

namespace WorkflowGraph.Execution;

/// <summary>
/// Subscriptions whose stream already carries each event's finished JSON (built by the feed statement for this
/// selection): every item becomes a result as it arrives, on the caller's thread and in order, without executing
/// the selection again.
/// </summary>
public sealed class RawJsonSubscriptionExecutionStrategy : SubscriptionExecutionStrategy
{
    protected override async Task<IObservable<ExecutionResult>?> ResolveResponseStreamAsync(
        GraphQL.Execution.ExecutionContext context, ExecutionNode node)
    {
        IObservable<object?> source;
        try
        {
            source = await node.FieldDefinition.StreamResolver!.ResolveAsync(new ReadonlyResolveFieldContext(node, context));
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception exception)
        {
            var error = exception as ExecutionError
                        ?? await HandleExceptionAsync(context, node, exception, $"Could not subscribe to field '{node.Field.Name}'.");
            error.Path = node.ResponsePath;
            error.AddLocation(node.Field, context.Document);
            context.Errors.Add(error);
            return null;
        }
        // the stream lives as long as the subscription: it keeps the response key and path, not the execution nodes
        // (and through them the document)
        var key = node.Name!;
        var path = node.ResponsePath.ToArray();
        return new ResultStream(source, value => new ExecutionResult
        {
            Executed = true,
            Data = new Dictionary<string, object?> { [key] = value },
        }, exception => new ExecutionResult
        {
            Executed = true,
            // only a stream's own reasons (an ExecutionError) reach the client, with their code when they have one (a
            // limit's RATE_LIMITED); a database failure is logged where it happened
            Errors = [StreamError(exception, path)],
        });
    }

    private static ExecutionError StreamError(Exception exception, object[] path)
    {
        if (exception is ExecutionError { Code: not null } coded)
        {
            coded.Path = path;
            return coded;
        }
        return new ExecutionError(exception is ExecutionError ended ? ended.Message
            : "The subscription ended unexpectedly; subscribe again with the last cursor received.")
        {
            Code = "SUBSCRIPTION_ENDED",
            Path = path,
        };
    }

    private sealed class ResultStream(
        IObservable<object?> source, Func<object?, ExecutionResult> next, Func<Exception, ExecutionResult> error)
        : IObservable<ExecutionResult>
    {
        public IDisposable Subscribe(IObserver<ExecutionResult> observer) => source.Subscribe(new Mapper(observer, next, error));
    }

    /// <summary>A stream error is the last result (with the error), then the stream completes.</summary>
    private sealed class Mapper(
        IObserver<ExecutionResult> target, Func<object?, ExecutionResult> next, Func<Exception, ExecutionResult> error)
        : IObserver<object?>
    {
        public void OnNext(object? value) => target.OnNext(next(value));

        public void OnError(Exception exception)
        {
            target.OnNext(error(exception));
            target.OnCompleted();
        }

        public void OnCompleted() => target.OnCompleted();
    }
}
