using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GraphQL.Transport;
using WorkflowGraph.Tests.WebSockets;
using WorkflowGraph.Transport.Persisted;

namespace WorkflowGraph.Tests.Http;

/// <summary>A front-end build's manifest (graphql-codegen's persisted-documents.json shape), published to the server.</summary>
public class TrustedDocumentServer : GraphQLWsServer
{
    public const string RunCount = "query RunCount { traces(first: 1) { totalCount } }";
    public const string SetMarker =
        "mutation SetMarker($key: String!) { setWorkflowContext(input: { traceId: \"V29ya2Zsb3dUcmFjZToz\", key: $key, value: 1 }) " +
        "{ entry { key } } }";
    public static readonly string RunCountHash = TrustedDocuments.Sha256(RunCount);
    public static readonly string SetMarkerHash = TrustedDocuments.Sha256(SetMarker);

    private static readonly Lazy<string> Manifest = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"wg-trusted-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["sha256:" + RunCountHash] = RunCount,
            [SetMarkerHash] = SetMarker,
        }));
        return path;
    });

    protected virtual bool TrustedOnly => false;

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["GraphQL:TrustedDocumentsPath"] = Manifest.Value,
        ["GraphQL:TrustedDocumentsOnly"] = TrustedOnly ? "true" : "false",
        ["GraphQL:PersistedQueryCacheSize"] = "2",
    };

    public async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string pathAndQuery, object? body = null)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(method, BaseUrl + pathAndQuery);
        if (body is not null)
            request.Content = JsonContent.Create(body);
        request.Headers.TryAddWithoutValidation("Authorization", Bearer());
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }
}

public sealed class TrustedOnlyServer : TrustedDocumentServer
{
    protected override bool TrustedOnly => true;
}

internal static class PersistedResponses
{
    public static string? Code(this JsonElement body) =>
        body.TryGetProperty("errors", out var errors) ? errors[0].GetProperty("extensions").GetProperty("code").GetString() : null;

    public static object Apq(string hash) => new { persistedQuery = new { version = 1, sha256Hash = hash } };
}

/// <summary>Trusted documents by documentId and Apollo's automatic persisted queries, over POST and GET.</summary>
public sealed class PersistedDocumentTests(TrustedDocumentServer server) : IClassFixture<TrustedDocumentServer>
{
    [Fact]
    public async Task A_trusted_document_runs_by_its_id_over_get_and_post_with_or_without_the_prefix()
    {
        var get = await server.SendAsync(HttpMethod.Get, $"/graphql?documentId=sha256:{TrustedDocumentServer.RunCountHash}");
        var post = await server.SendAsync(HttpMethod.Post, "/graphql", new { documentId = TrustedDocumentServer.RunCountHash });

        Assert.Equal(HttpStatusCode.OK, get.Status);
        Assert.True(get.Body.GetProperty("data").GetProperty("traces").GetProperty("totalCount").GetInt32() > 0);
        Assert.Equal(get.Body.GetRawText(), post.Body.GetRawText());
    }

    [Fact]
    public async Task Unknown_ids_and_ambiguous_requests_are_refused_with_codes()
    {
        var unknown = await server.SendAsync(HttpMethod.Get, $"/graphql?documentId=sha256:{new string('a', 64)}");
        Assert.Equal((HttpStatusCode.BadRequest, "PERSISTED_DOCUMENT_NOT_FOUND"), (unknown.Status, unknown.Body.Code()));
        var both = await server.SendAsync(HttpMethod.Post, "/graphql",
            new { documentId = TrustedDocumentServer.RunCountHash, query = "{ __typename }" });
        Assert.Equal((HttpStatusCode.BadRequest, "INVALID_REQUEST"), (both.Status, both.Body.Code()));
        var badVersion = await server.SendAsync(HttpMethod.Post, "/graphql",
            new { extensions = new { persistedQuery = new { version = 2, sha256Hash = TrustedDocumentServer.RunCountHash } } });
        Assert.Equal("PERSISTED_QUERY_NOT_SUPPORTED", badVersion.Body.Code());
        var badHash = await server.SendAsync(HttpMethod.Post, "/graphql", new { extensions = PersistedResponses.Apq("abc") });
        Assert.Equal("INVALID_PARAMETER", badHash.Body.Code());
    }

    [Fact]
    public async Task Apq_answers_not_found_then_registers_the_document_with_its_hash_then_runs_it_by_hash_over_get()
    {
        var query = $"query Apq{Guid.NewGuid():N} {{ traces(first: 2) {{ nodes {{ id }} }} }}";
        var hash = TrustedDocuments.Sha256(query);
        var extensions = Uri.EscapeDataString(JsonSerializer.Serialize(PersistedResponses.Apq(hash)));

        var first = await server.SendAsync(HttpMethod.Get, $"/graphql?extensions={extensions}");
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(PersistedDocuments.NotFoundCode, first.Body.Code());
        Assert.Equal(PersistedDocuments.NotFoundMessage, first.Body.GetProperty("errors")[0].GetProperty("message").GetString());

        var mismatch = await server.SendAsync(HttpMethod.Post, "/graphql",
            new { query = query + " ", extensions = PersistedResponses.Apq(hash) });
        Assert.Equal((HttpStatusCode.BadRequest, "PERSISTED_QUERY_HASH_MISMATCH"), (mismatch.Status, mismatch.Body.Code()));

        var register = await server.SendAsync(HttpMethod.Post, "/graphql", new { query, extensions = PersistedResponses.Apq(hash) });
        Assert.Equal(2, register.Body.GetProperty("data").GetProperty("traces").GetProperty("nodes").GetArrayLength());
        var again = await server.SendAsync(HttpMethod.Get, $"/graphql?extensions={extensions}");
        Assert.Equal(register.Body.GetRawText(), again.Body.GetRawText());
    }

    [Fact]
    public async Task A_trusted_documents_hash_runs_as_an_apq_hash_and_mutations_stay_off_get()
    {
        var byHash = await server.SendAsync(HttpMethod.Post, "/graphql",
            new { extensions = PersistedResponses.Apq(TrustedDocumentServer.RunCountHash) });
        Assert.Null(byHash.Body.Code());
        var mutation = await server.SendAsync(HttpMethod.Get,
            $"/graphql?documentId={TrustedDocumentServer.SetMarkerHash}&variables={Uri.EscapeDataString("{\"key\":\"k\"}")}");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, mutation.Status);
    }

    [Fact]
    public void The_apq_cache_keeps_the_most_recently_used_documents_up_to_its_size()
    {
        var cache = new PersistedQueryCache(2);
        cache.Add("a", "A");
        cache.Add("b", "B");
        Assert.Equal("A", cache.Find("a"));
        cache.Add("c", "C");
        Assert.Equal((2, "A", null, "C"), (cache.Count, cache.Find("a"), cache.Find("b"), cache.Find("c")));
    }

    [Fact]
    public void A_manifest_that_lies_about_a_hash_is_too_large_or_is_not_an_object_stops_the_service()
    {
        var lying = new Dictionary<string, string> { [TrustedDocumentServer.RunCountHash] = "{ __typename }" };
        Assert.Contains("does not match", Assert.Throws<InvalidOperationException>(() => new TrustedDocuments(lying)).Message);
        var notAHash = new Dictionary<string, string> { ["RunCount"] = TrustedDocumentServer.RunCount };
        Assert.Contains("not a SHA-256", Assert.Throws<InvalidOperationException>(() => new TrustedDocuments(notAHash)).Message);

        var path = Path.Combine(Path.GetTempPath(), $"wg-manifest-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, JsonSerializer.Serialize(new Dictionary<string, string>
            {
                [TrustedDocumentServer.RunCountHash] = TrustedDocumentServer.RunCount,
            }));
            Assert.Equal(1, TrustedDocuments.Load(path, 10_000).Count);
            Assert.Contains("MaxTrustedDocumentsBytes",
                Assert.Throws<InvalidOperationException>(() => TrustedDocuments.Load(path, 10)).Message);
            File.WriteAllText(path, "[\"query\"]");
            Assert.Contains("not a JSON object",
                Assert.Throws<InvalidOperationException>(() => TrustedDocuments.Load(path, 10_000)).Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void In_development_trusted_only_still_lets_introspection_and_the_ide_through()
    {
        var options = new PersistedDocumentOptions { TrustedDocumentsOnly = true };
        var development = new PersistedDocuments(TrustedDocuments.Empty, new PersistedQueryCache(1), options, development: true);
        var production = new PersistedDocuments(TrustedDocuments.Empty, new PersistedQueryCache(1), options, development: false);
        GraphQLRequest Raw(string query) => new() { Query = query };

        Assert.Null(development.Resolve(Raw("{ __schema { queryType { name } } }"), fromOwnOrigin: false));
        Assert.Null(development.Resolve(Raw("{ traces { totalCount } }"), fromOwnOrigin: true));
        Assert.Equal("TRUSTED_DOCUMENT_REQUIRED", development.Resolve(Raw("{ traces { totalCount } }"), fromOwnOrigin: false)?.Code);
        Assert.Equal("TRUSTED_DOCUMENT_REQUIRED",
            production.Resolve(Raw("{ __schema { queryType { name } } }"), fromOwnOrigin: true)?.Code);
    }
}

/// <summary><c>GraphQL:TrustedDocumentsOnly=true</c>: the manifest's documents run, nothing else does.</summary>
public sealed class TrustedDocumentsOnlyTests(TrustedOnlyServer server) : IClassFixture<TrustedOnlyServer>
{
    [Fact]
    public async Task Only_the_manifests_documents_run_and_nothing_else_reaches_the_database()
    {
        var trusted = await server.SendAsync(HttpMethod.Get, $"/graphql?documentId={TrustedDocumentServer.RunCountHash}");
        Assert.Null(trusted.Body.Code());

        var key = $"raw-{Guid.NewGuid():N}";
        var raw = await server.SendAsync(HttpMethod.Post, "/graphql", new
        {
            query = TrustedDocumentServer.SetMarker.Replace("SetMarker", "Other", StringComparison.Ordinal),
            variables = new { key },
        });
        Assert.Equal((HttpStatusCode.BadRequest, "TRUSTED_DOCUMENT_REQUIRED"), (raw.Status, raw.Body.Code()));
        var query = "{ traces { totalCount } }";
        var register = await server.SendAsync(HttpMethod.Post, "/graphql",
            new { query, extensions = PersistedResponses.Apq(TrustedDocuments.Sha256(query)) });
        Assert.Equal("TRUSTED_DOCUMENT_REQUIRED", register.Body.Code());
        // the test host runs in the Development environment, where introspection stays open (outside it, see above)
        var introspection = await server.SendAsync(HttpMethod.Post, "/graphql", new { query = "{ __schema { queryType { name } } }" });
        Assert.Null(introspection.Body.Code());

        var mutation = await server.SendAsync(HttpMethod.Post, "/graphql",
            new { documentId = TrustedDocumentServer.SetMarkerHash, variables = new { key } });
        Assert.Equal(key,
            mutation.Body.GetProperty("data").GetProperty("setWorkflowContext").GetProperty("entry").GetProperty("key").GetString());
    }

    [Fact]
    public async Task Over_the_websocket_too_a_trusted_document_runs_by_id_and_a_raw_one_is_refused()
    {
        await using var client = await server.ConnectAsync();
        await client.SendAsync(new { id = "raw", type = "subscribe", payload = new { query = "{ traces { totalCount } }" } });
        Assert.Equal(["TRUSTED_DOCUMENT_REQUIRED"], Infrastructure.GraphQLErrors.Codes(await client.ErrorAsync("raw")));
        await client.SendAsync(new { id = "doc", type = "subscribe", payload = new { documentId = TrustedDocumentServer.RunCountHash } });
        var result = await client.NextAsync("doc");
        Assert.True(result.GetProperty("data").GetProperty("traces").GetProperty("totalCount").GetInt32() > 0);
        await client.CompletedAsync("doc");
    }
}
