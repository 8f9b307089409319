using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Tests.WebSockets;

namespace WorkflowGraph.Tests.Hostile;

/// <summary>Tests that measure time or memory run alone, after the parallel tests, so that what they measure is their own.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "alone";
}

/// <summary>The service on a loopback port with a 10 s execution timeout, for the fuzz test.</summary>
public sealed class FuzzServer : GraphQLWsServer
{
    public const int TimeoutSeconds = 10;

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["GraphQL:ExecutionTimeoutSeconds"] = TimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["GraphQL:KeepAliveSeconds"] = "0",
    };
}

/// <summary>
/// A few thousand generated requests (<see cref="DocumentFuzzer"/>, seeded) against the real server, four at a time
/// for at most about 30 s: none may be answered with a 5xx or an INTERNAL_ERROR, each is answered within the timeout,
/// and the service's managed memory is as flat afterwards as after the first few hundred.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class FuzzTests(FuzzServer server, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<FuzzServer>
{
    private const int Requests = 3000, Warmup = 300, Concurrency = 4, Seed = 1313;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(30);

    private const string Introspection = """
        { __schema { types { name kind
            fields { name args { name type { ...Ref } } type { ...Ref } }
            inputFields { name type { ...Ref } }
            enumValues { name } possibleTypes { name } } } }
        fragment Ref on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }
        """;

    [Fact]
    public async Task Generated_and_mutated_documents_never_fail_the_server()
    {
        using var http = new HttpClient
        {
            BaseAddress = new Uri(server.BaseUrl),
            Timeout = TimeSpan.FromSeconds(FuzzServer.TimeoutSeconds + 20),
        };
        http.DefaultRequestHeaders.Authorization = AuthenticationHeaderValue.Parse(GraphQLWsServer.Bearer());
        var schema = (await server.PostAsync(Introspection)).GetProperty("data").GetProperty("__schema");
        var fuzzer = new DocumentFuzzer(schema, new Random(Seed));
        var bodies = Enumerable.Range(0, Requests).Select(_ => fuzzer.Next()).ToArray();

        var failures = new List<string>();
        var slowest = TimeSpan.Zero;
        var statuses = new Dictionary<HttpStatusCode, int>();
        var codes = new Dictionary<string, int>();
        var sent = 0;
        long warmedUp = 0;
        var budget = Stopwatch.StartNew();
        for (var start = 0; start < bodies.Length && budget.Elapsed < Budget; start += Concurrency)
        {
            var batch = bodies.Skip(start).Take(Concurrency).Select(body => SendAsync(http, body));
            foreach (var (body, status, code, elapsed, problem) in await Task.WhenAll(batch))
            {
                sent++;
                codes[code ?? "-"] = codes.GetValueOrDefault(code ?? "-") + 1;
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
                slowest = elapsed > slowest ? elapsed : slowest;
                if (problem is not null)
                    failures.Add($"{problem}: {body[..Math.Min(body.Length, 300)]}");
            }
            if (start < Warmup && start + Concurrency >= Warmup)
                warmedUp = ManagedMemory();
        }
        var grown = (ManagedMemory() - warmedUp) / (1024 * 1024);
        output.WriteLine($"{sent} requests in {budget.Elapsed.TotalSeconds:0.0} s, slowest {slowest.TotalMilliseconds:0} ms, " +
                         $"managed memory grew {grown} MB after the warm-up; statuses: " +
                         string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{(int)s.Key}×{s.Value}")) + "; first error codes: " +
                         string.Join(", ", codes.OrderByDescending(c => c.Value).Select(c => $"{c.Key}×{c.Value}")));
        Assert.True(sent >= 1000, $"only {sent} requests within {Budget.TotalSeconds} s");
        Assert.Empty(failures.Take(10));
        Assert.True(slowest < TimeSpan.FromSeconds(FuzzServer.TimeoutSeconds + 5), $"a response took {slowest}");
        Assert.True(grown < 64, $"the service's managed memory grew by {grown} MB");
    }

    private static async Task<(string Body, HttpStatusCode Status, string? Code, TimeSpan Elapsed, string? Problem)> SendAsync(
        HttpClient http, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/graphql")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Accept.ParseAdd("application/graphql-response+json");
        var clock = Stopwatch.StartNew();
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var elapsed = clock.Elapsed;
        if ((int)response.StatusCode >= 500)
            return (body, response.StatusCode, null, elapsed, $"HTTP {(int)response.StatusCode} {text[..Math.Min(text.Length, 200)]}");
        try
        {
            using var json = JsonDocument.Parse(text);
            var codes = GraphQLErrors.Codes(json.RootElement).ToList();
            if (codes.Contains("INTERNAL_ERROR"))
                return (body, response.StatusCode, "INTERNAL_ERROR", elapsed, "INTERNAL_ERROR");
            return (body, response.StatusCode, codes.FirstOrDefault(), elapsed, null);
        }
        catch (JsonException)
        {
            var start = text[..Math.Min(text.Length, 200)];
            return (body, response.StatusCode, null, elapsed, $"not JSON ({(int)response.StatusCode}): {start}");
        }
    }

    private static long ManagedMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
