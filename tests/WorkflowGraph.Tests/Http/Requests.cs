using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace WorkflowGraph.Tests.Http;

/// <summary>Raw HTTP requests to /graphql, so tests control every header and byte.</summary>
internal static class Requests
{
    public const string GraphQLResponseJson = "application/graphql-response+json";
    public const string Json = "application/json";

    public static HttpRequestMessage Post(string body, string? accept = GraphQLResponseJson, string? contentType = Json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/graphql") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        if (contentType is not null) request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        return request;
    }

    public static HttpRequestMessage PostQuery(string query, string? accept = GraphQLResponseJson) =>
        Post(JsonSerializer.Serialize(new { query }), accept);

    public static HttpRequestMessage Get(string pathAndQuery, string? accept = GraphQLResponseJson)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        return request;
    }

    public static HttpRequestMessage GetQuery(string query, string? accept = GraphQLResponseJson, string extra = "") =>
        Get($"/graphql?query={Uri.EscapeDataString(query)}{extra}", accept);

    public static async Task<JsonElement> BodyAsync(this HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    /// <summary>The <c>extensions.code</c> of the first error.</summary>
    public static async Task<string?> ErrorCodeAsync(this HttpResponseMessage response) =>
        (await response.BodyAsync()).GetProperty("errors")[0].GetProperty("extensions").GetProperty("code").GetString();

    public static string? MediaType(this HttpResponseMessage response) => response.Content.Headers.ContentType?.MediaType;

    public static string? Charset(this HttpResponseMessage response) => response.Content.Headers.ContentType?.CharSet;
}
