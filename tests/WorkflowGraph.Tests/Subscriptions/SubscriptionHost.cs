using System.Text.Json;
using System.Threading.Channels;
using GraphQL;
using GraphQL.Transport;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using WorkflowGraph.Execution;
using WorkflowGraph.Subscriptions;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Auth;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Subscriptions;

/// <summary>
/// Service instances over one database of their own (each with its own LISTEN connection and live feeds), for
/// subscribing in process: the GraphQL engine and the feeds are the service's, only the WebSocket framing is skipped.
/// </summary>
public sealed class SubscriptionHost : IAsyncLifetime
{
    private readonly List<WebApplicationFactory<Program>> _instances = [];

    public DatabaseFixture Database { get; } = new();

    public IServiceProvider Services => _instances[0].Services;

    public async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        await StartInstanceAsync();
    }

    /// <summary>Starts another instance on the same database; it is stopped with the fixture.</summary>
    public async Task<WebApplicationFactory<Program>> StartInstanceAsync()
    {
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host
            .UseSetting("ConnectionStrings:WorkflowGraph", Database.ServiceConnectionString)
            .UseSetting("ConnectionStrings:WorkflowGraphOwner", Database.OwnerConnectionString)
            .UseSetting("GraphQL:SubscriptionPollSeconds", "30")
            // small batches: replays and catch-ups take several reads, so cursors inside a batch and the replay-to-live
            // switch are exercised by ordinary traffic
            .UseSetting("GraphQL:SubscriptionBatchSize", "7")
            .UseTestSigningKey());
        _instances.Add(factory);
        var listener = factory.Services.GetRequiredService<EventListener>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!listener.Listening && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.True(listener.Listening, "the event listener did not start listening");
        return factory;
    }

    public async Task DisposeAsync()
    {
        foreach (var instance in _instances)
            await instance.DisposeAsync();
        await Database.DisposeAsync();
    }
}

/// <summary>One subscription run through the service's engine as an organisation's viewer; results queue up in order.</summary>
public sealed class TestSubscription : IAsyncDisposable, IObserver<ExecutionResult>
{
    private readonly Channel<ExecutionResult> _results = Channel.CreateUnbounded<ExecutionResult>();
    private readonly IGraphQLTextSerializer _serializer;
    private AsyncServiceScope _scope;
    private IDisposable? _stream;

    private TestSubscription(IServiceProvider services) => _serializer = services.GetRequiredService<IGraphQLTextSerializer>();

    /// <summary>The errors of a subscription that did not start (validation, bad arguments); null when it runs.</summary>
    public IReadOnlyList<JsonElement>? Errors { get; private set; }

    /// <param name="phiRead">The connection's token carries the phi:read scope.</param>
    public static async Task<TestSubscription> StartAsync(IServiceProvider services, Guid org, string query, bool phiRead = false)
    {
        var subscription = new TestSubscription(services);
        subscription._scope = services.CreateAsyncScope();
        var result = await ExecuteAsync(services, subscription._scope.ServiceProvider, org, query, phiRead: phiRead);
        if (result.Streams is { Count: 1 } streams)
            subscription._stream = streams.Values.Single().Subscribe(subscription);
        else
            subscription.Errors = ErrorsOf(subscription._serializer.Serialize(result));
        return subscription;
    }

    private static List<JsonElement> ErrorsOf(string resultJson) =>
        JsonDocument.Parse(resultJson).RootElement.GetProperty("errors").EnumerateArray().ToList();

    /// <summary>Runs a query or mutation the same way (one scope, the organisation's viewer) and returns its JSON.</summary>
    public static async Task<JsonElement> QueryAsync(IServiceProvider services, Guid org, string query, TenantRole role = TenantRole.Viewer)
    {
        await using var scope = services.CreateAsyncScope();
        var result = await ExecuteAsync(services, scope.ServiceProvider, org, query, role);
        return JsonDocument.Parse(services.GetRequiredService<IGraphQLTextSerializer>().Serialize(result)).RootElement;
    }

    private static Task<ExecutionResult> ExecuteAsync(IServiceProvider services, IServiceProvider scope, Guid org, string query,
        TenantRole role = TenantRole.Viewer, bool phiRead = false)
    {
        // the service resolves the tenant from the current HTTP context, as the WebSocket transport sets it
        var http = new DefaultHttpContext();
        http.Features.Set(new RequestTenant(org, Guid.NewGuid(), role, phiRead));
        services.GetRequiredService<IHttpContextAccessor>().HttpContext = http;
        return services.GetRequiredService<GraphQLExecution>().ExecuteAsync(new GraphQLRequest { Query = query },
            scope, GraphQLTransport.WebSocket, CancellationToken.None);
    }

    /// <summary>The next result as JSON (<c>{"data": ...}</c> or <c>{"errors": ...}</c>); fails after <paramref name="timeout"/>.</summary>
    public async Task<JsonElement> NextAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            var result = await _results.Reader.ReadAsync(cancel.Token);
            return JsonDocument.Parse(_serializer.Serialize(result)).RootElement;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("no result arrived in time");
        }
    }

    /// <summary>Whether a result arrives within <paramref name="wait"/> (for "receives nothing" checks).</summary>
    public async Task<bool> AnyWithinAsync(TimeSpan wait)
    {
        using var cancel = new CancellationTokenSource(wait);
        try
        {
            return await _results.Reader.WaitToReadAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public bool Completed { get; private set; }

    public void OnNext(ExecutionResult value) => _results.Writer.TryWrite(value);
    public void OnError(Exception error) => _results.Writer.TryComplete(error);
    public void OnCompleted()
    {
        Completed = true;
        _results.Writer.TryComplete();
    }

    public async ValueTask DisposeAsync()
    {
        _stream?.Dispose();
        await _scope.DisposeAsync();
    }
}
