using System.Net;
using WorkflowGraph.SchemaBinding;

namespace WorkflowGraph.Tests.Http;

public sealed class GetRequestTests(GraphQLApp app) : IClassFixture<GraphQLApp>
{
    private readonly HttpClient _client = app.CreateClient();

    [Fact]
    public async Task Runs_a_query_from_the_query_string()
    {
        var variables = Uri.EscapeDataString("""{"n": 1}""");
        var response = await _client.SendAsync(Requests.GetQuery(
            "query Count($n: Int) { traces(first: $n) { totalCount } }", extra: $"&operationName=Count&variables={variables}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Requests.GraphQLResponseJson, response.MediaType());
        Assert.Equal("utf-8", response.Charset());
        Assert.Equal(0, (await response.BodyAsync()).GetProperty("data").GetProperty("traces").GetProperty("totalCount").GetInt32());
    }

    [Fact]
    public async Task Refuses_a_mutation_with_405_and_allow_post()
    {
        // The spec requires 405 for a mutation over GET. The schema has no Mutation type yet; the queries-only rule
        // of GraphQLExecution refuses the operation type either way, so this holds once mutations exist.
        foreach (var accept in new[] { Requests.GraphQLResponseJson, Requests.Json })
        {
            var response = await _client.SendAsync(Requests.GetQuery("mutation { __typename }", accept));

            Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
            Assert.Equal(["POST"], response.Content.Headers.Allow);
            var json = await response.BodyAsync();
            Assert.False(json.TryGetProperty("data", out _));
            Assert.Contains(json.GetProperty("errors").EnumerateArray(),
                error => error.GetProperty("extensions").GetProperty("code").GetString() == "MUTATION_NOT_ALLOWED");
        }
    }

    [Fact]
    public async Task A_mutation_document_cached_by_a_post_is_still_refused_over_get()
    {
        const string mutation = "mutation CachedThenGet { __typename }";
        var posted = await _client.SendAsync(Requests.PostQuery(mutation));
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        Assert.Equal("Mutation", (await posted.BodyAsync()).GetProperty("data").GetProperty("__typename").GetString());

        var response = await _client.SendAsync(Requests.GetQuery(mutation));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Contains((await response.BodyAsync()).GetProperty("errors").EnumerateArray(),
            error => error.GetProperty("extensions").GetProperty("code").GetString() == "MUTATION_NOT_ALLOWED");
    }

    [Theory]
    [InlineData("", "MISSING_QUERY")]
    [InlineData("?operationName=Q", "MISSING_QUERY")]
    [InlineData("?query={__typename}&query={__typename}", "INVALID_PARAMETER")]
    [InlineData("?query={__typename}&variables={not json", "INVALID_PARAMETER")]
    [InlineData("?query={__typename}&variables=[1]", "INVALID_PARAMETER")]
    [InlineData("?query={__typename}&extensions=\"x\"", "INVALID_PARAMETER")]
    public async Task Malformed_parameters_are_400(string queryString, string code)
    {
        var response = await _client.SendAsync(Requests.Get("/graphql" + queryString, Requests.Json));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(code, await response.ErrorCodeAsync());
    }

    [Fact]
    public async Task Validation_errors_are_400_for_graphql_response_json_and_200_for_application_json()
    {
        var strict = await _client.SendAsync(Requests.GetQuery("{ noSuchField }"));
        var legacy = await _client.SendAsync(Requests.GetQuery("{ noSuchField }", Requests.Json));

        Assert.Equal(HttpStatusCode.BadRequest, strict.StatusCode);
        Assert.Equal(HttpStatusCode.OK, legacy.StatusCode);
    }

    [Fact]
    public async Task Sdl_returns_the_schema_text()
    {
        var response = await _client.SendAsync(Requests.Get("/graphql?sdl", accept: null));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.MediaType());
        Assert.Equal("utf-8", response.Charset());
        Assert.Equal(SchemaDocument.Text, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_browser_following_a_query_link_gets_json_not_the_ide()
    {
        const string browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

        var response = await _client.SendAsync(Requests.GetQuery("{ __typename }", browserAccept));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Requests.GraphQLResponseJson, response.MediaType());
    }

    [Fact]
    public async Task Answers_at_the_trailing_slash_path_too()
    {
        var response = await _client.SendAsync(Requests.Get($"/graphql/?query={Uri.EscapeDataString("{ __typename }")}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Query", (await response.BodyAsync()).GetProperty("data").GetProperty("__typename").GetString());
    }
}
