using System.Net;
using System.Text;

namespace WorkflowGraph.Tests.Http;

/// <summary>Requests the transport refuses before GraphQL runs: each with its status and a GraphQL-style error.</summary>
public sealed class RefusedRequestTests(GraphQLApp app) : IClassFixture<GraphQLApp>
{
    private const long MaxRequestBytes = 256 * 1024; // TransportLimits' default
    private readonly HttpClient _client = app.CreateClient();

    [Theory]
    [InlineData("""{ "not a JSON""", "INVALID_JSON")]
    [InlineData("", "INVALID_REQUEST")]
    [InlineData("""[{"query": "{ __typename }"}]""", "INVALID_REQUEST")]
    [InlineData("""{"notquery": "{ __typename }"}""", "MISSING_QUERY")]
    [InlineData("""{"query": null}""", "MISSING_QUERY")]
    [InlineData("""{"query": 0}""", "INVALID_PARAMETER")]
    [InlineData("""{"query": {"obj": "ect"}}""", "INVALID_PARAMETER")]
    [InlineData("""{"query": "{ __typename }", "operationName": false}""", "INVALID_PARAMETER")]
    [InlineData("""{"query": "{ __typename }", "variables": "{}"}""", "INVALID_PARAMETER")]
    [InlineData("""{"query": "{ __typename }", "variables": ["array"]}""", "INVALID_PARAMETER")]
    [InlineData("""{"query": "{ __typename }", "extensions": 0}""", "INVALID_PARAMETER")]
    public async Task A_malformed_post_is_400_with_a_code_whatever_the_accepted_type(string body, string code)
    {
        foreach (var accept in new[] { Requests.GraphQLResponseJson, Requests.Json })
        {
            var response = await _client.SendAsync(Requests.Post(body, accept));

            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(accept, response.MediaType());
            Assert.Equal(code, await response.ErrorCodeAsync());
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/graphql")]
    [InlineData("application/json; charset=iso-8859-1")]
    public async Task A_post_that_is_not_utf8_json_is_415(string? contentType)
    {
        var response = await _client.SendAsync(Requests.Post("""{"query": "{ __typename }"}""", contentType: contentType));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("UNSUPPORTED_MEDIA_TYPE", await response.ErrorCodeAsync());
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml, text/html;q=0.9")]
    [InlineData("application/json;q=0, application/graphql-response+json;q=0")]
    public async Task An_accept_header_without_a_json_type_is_406_on_post_and_get(string accept)
    {
        foreach (var request in new[] { Requests.PostQuery("{ __typename }", accept), Requests.GetQuery("{ __typename }", accept) })
        {
            var response = await _client.SendAsync(request);

            Assert.Equal(HttpStatusCode.NotAcceptable, response.StatusCode);
            Assert.Equal("NOT_ACCEPTABLE", await response.ErrorCodeAsync());
        }
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    [InlineData("OPTIONS")]
    public async Task Other_methods_are_405_naming_get_and_post(string method)
    {
        var response = await _client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/graphql"));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["GET", "POST"], response.Content.Headers.Allow.Order());
        Assert.Equal("METHOD_NOT_ALLOWED", await response.ErrorCodeAsync());
    }

    [Fact]
    public async Task A_body_at_the_limit_runs_and_one_byte_more_is_413()
    {
        var atLimit = PaddedQuery(MaxRequestBytes);
        var ok = await _client.SendAsync(Requests.Post(atLimit));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        var tooLarge = await _client.SendAsync(Requests.Post(PaddedQuery(MaxRequestBytes + 1)));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal("REQUEST_TOO_LARGE", await tooLarge.ErrorCodeAsync());
    }

    [Fact]
    public async Task A_chunked_body_over_the_limit_is_413_too()
    {
        // No Content-Length: the limit must hold on the bytes read, not only on what the client announced.
        var request = new HttpRequestMessage(HttpMethod.Post, "/graphql")
        {
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(PaddedQuery(MaxRequestBytes * 2)))),
        };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TransferEncodingChunked = true;

        var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    /// <summary>A valid request of exactly <paramref name="bytes"/> bytes (ASCII, so characters are bytes).</summary>
    private static string PaddedQuery(long bytes)
    {
        const string head = "{\"query\": \"{ __typename }\", \"padding\": \"";
        const string tail = "\"}";
        return head + new string('x', (int)(bytes - head.Length - tail.Length)) + tail;
    }
}
