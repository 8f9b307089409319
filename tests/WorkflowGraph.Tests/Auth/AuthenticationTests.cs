using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using WorkflowGraph.Auth;
using WorkflowGraph.Development;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Http;
using static WorkflowGraph.Tests.Api.GraphApiFixture;

namespace WorkflowGraph.Tests.Auth;

/// <summary>
/// Every GraphQL request needs a valid bearer token; whatever is wrong with it, the answer is 401 with
/// <c>WWW-Authenticate: Bearer</c>, a GraphQL error coded UNAUTHENTICATED, no data, and no SQL sent.
/// </summary>
public sealed class AuthenticationTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    private const string Query = "{ traces { totalCount nodes { orgId } } }";

    [Fact]
    public async Task A_post_without_a_token_is_401_and_runs_no_sql()
    {
        var response = await api.PostAsync(Query, anonymous: true);

        AssertUnauthenticated(response, "Bearer");
        Assert.Contains("Authorization: Bearer", response.Body.GetProperty("errors")[0].GetProperty("message").GetString());
    }

    [Theory]
    [InlineData(Requests.GraphQLResponseJson)]
    [InlineData(Requests.Json)]
    public async Task A_get_without_a_token_is_401_in_the_negotiated_media_type(string accept)
    {
        api.Statements.Take();
        var response = await api.Client.SendAsync(Requests.GetQuery(Query, accept));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal(accept, response.MediaType());
        var body = await response.BodyAsync();
        Assert.False(body.TryGetProperty("data", out _));
        Assert.Equal("UNAUTHENTICATED", await response.ErrorCodeAsync());
        Assert.Empty(api.Statements.Take());
    }

    public static TheoryData<string> RefusedTokens =>
    [
        "forged payload", "expired", "signed with another key", "wrong issuer", "wrong audience", "org_id not a UUID",
        "sub not a UUID", "unknown role", "role in capitals", "no org_id", "two roles", "no exp", "alg none", "not a JWT",
        "HS512 with the right key",
    ];

    [Theory]
    [MemberData(nameof(RefusedTokens))]
    public async Task A_bad_token_is_401_with_no_data_and_no_sql(string kind)
    {
        var response = await api.PostAsync(Query, authorization: "Bearer " + TokenOf(kind));

        AssertUnauthenticated(response, "Bearer error=\"invalid_token\"");
        Assert.StartsWith("The bearer token was refused: ", response.Body.GetProperty("errors")[0].GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("Basic dXNlcjpwYXNzd29yZA==")]
    [InlineData("Bearer")]
    [InlineData("Bearer ")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.e30.c2ln")]
    public async Task An_authorization_header_that_is_not_bearer_jwt_is_401(string authorization)
    {
        var response = await api.PostAsync(Query, authorization: authorization);

        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.StartsWith("Bearer", response.Headers!.WwwAuthenticate.ToString());
        Assert.Equal(["UNAUTHENTICATED"], response.ErrorCodes);
        Assert.Empty(response.Statements);
    }

    [Fact]
    public async Task The_messages_say_what_is_wrong()
    {
        async Task<string> MessageFor(string kind)
        {
            var response = await api.PostAsync(Query, authorization: "Bearer " + TokenOf(kind));
            return response.Body.GetProperty("errors")[0].GetProperty("message").GetString()!;
        }

        Assert.Contains("expired", await MessageFor("expired"));
        Assert.Contains("signature", await MessageFor("signed with another key"));
        Assert.Contains("issuer", await MessageFor("wrong issuer"));
        Assert.Contains("audience", await MessageFor("wrong audience"));
        Assert.Contains("org_id", await MessageFor("org_id not a UUID"));
        Assert.Contains("role", await MessageFor("unknown role"));
    }

    [Fact]
    public async Task A_token_expired_within_the_clock_skew_still_works()
    {
        var justExpired = DevelopmentTokens.Create(TestTokens.Key, OrgA, UserA, TenantRole.Viewer, TimeSpan.FromMinutes(1),
            issuedAt: DateTime.UtcNow.AddSeconds(-70));

        var response = await api.PostAsync(Query, authorization: "Bearer " + justExpired);

        Assert.Equal(HttpStatusCode.OK, response.Status);
    }

    [Theory]
    [InlineData(TenantRole.Viewer)]
    [InlineData(TenantRole.Operator)]
    [InlineData(TenantRole.Admin)]
    public async Task A_token_of_org_b_sees_exactly_org_b_rows_whatever_its_role(TenantRole role)
    {
        var response = await api.PostAsync("{ traces { totalCount nodes { orgId } } workflows { totalCount nodes { orgId } } }",
            org: OrgB, role: role);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        await using var conn = await api.Database.DataSource.OpenConnectionAsync();
        foreach (var (field, table) in new[] { ("traces", "workflow_trace"), ("workflows", "workflows") })
        {
            var list = response.Data.GetProperty(field);
            var ofB = await conn.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE org_id = $1", OrgB);
            var ofA = await conn.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE org_id = $1", OrgA);
            Assert.True(ofA > 0 && ofB > 0, $"graph-data.sql should give both organisations {table}");
            Assert.Equal(ofB, list.GetProperty("totalCount").GetInt64());
            Assert.All(list.GetProperty("nodes").EnumerateArray(), node => Assert.Equal(OrgB, node.GetProperty("orgId").GetGuid()));
        }
    }

    [Fact]
    public async Task The_old_development_headers_choose_nothing()
    {
        api.Statements.Take();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/graphql")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { query = Query }), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Authorization", TestTokens.Bearer(OrgB, UserB, TenantRole.Viewer));
        request.Headers.Add("X-Org-Id", OrgA.ToString());
        request.Headers.Add("X-User-Id", UserA.ToString());
        var response = await api.Client.SendAsync(request);

        var traces = (await response.BodyAsync()).GetProperty("data").GetProperty("traces");
        Assert.All(traces.GetProperty("nodes").EnumerateArray(), node => Assert.Equal(OrgB, node.GetProperty("orgId").GetGuid()));

        var anonymous = new HttpRequestMessage(HttpMethod.Post, "/graphql")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { query = Query }), Encoding.UTF8, "application/json"),
        };
        anonymous.Headers.Add("X-Org-Id", OrgA.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.Client.SendAsync(anonymous)).StatusCode);
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/graphql?sdl")]
    [InlineData("/graphql/bcp-config.json")]
    public async Task Health_the_sdl_and_the_ide_need_no_token(string path)
    {
        var response = await api.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_browser_gets_the_ide_page_without_a_token()
    {
        var response = await api.Client.SendAsync(Requests.Get("/graphql/", "text/html,*/*;q=0.8"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.MediaType());
    }

    [Fact]
    public async Task With_a_configured_key_the_ide_configuration_carries_no_token()
    {
        var text = await api.Client.GetStringAsync("/graphql/bcp-config.json");

        Assert.False(JsonDocument.Parse(text).RootElement.TryGetProperty("httpHeaders", out _), text);
        Assert.DoesNotContain("Bearer", text);
        Assert.Null(api.Services.GetRequiredService<DevelopmentSession>().Login);
    }

    [Fact]
    public async Task The_authenticator_turns_a_header_value_into_the_tenant_for_other_transports()
    {
        var authenticator = api.Services.GetRequiredService<TokenAuthenticator>();

        var accepted = await authenticator.AuthenticateAsync(TestTokens.Bearer(OrgB, UserB, TenantRole.Operator), CancellationToken.None);
        var refused = await authenticator.AuthenticateAsync("Bearer " + TokenOf("expired"), CancellationToken.None);
        var missing = await authenticator.AuthenticateAsync(default, CancellationToken.None);

        Assert.Equal(new RequestTenant(OrgB, UserB, TenantRole.Operator), accepted.Tenant);
        Assert.Equal(UserB.ToString(), accepted.Principal!.Identity!.Name);
        Assert.True(refused is { Succeeded: false, TokenSent: true });
        Assert.True(missing is { Succeeded: false, TokenSent: false });
    }

    private static void AssertUnauthenticated(GraphResponse response, string challenge)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal(challenge, response.Headers!.WwwAuthenticate.ToString());
        Assert.False(response.Body.TryGetProperty("data", out _), response.Body.ToString());
        Assert.Equal(["UNAUTHENTICATED"], response.ErrorCodes);
        Assert.Empty(response.Statements);
    }

    private static readonly SymmetricSecurityKey OtherKey = TokenSettings.KeyFrom("another-service-entirely-with-its-own-key-0123");

    private static string TokenOf(string kind)
    {
        var hour = TimeSpan.FromHours(1);
        Dictionary<string, object> Claims(object org, object user, object role) =>
            new() { ["org_id"] = org, ["sub"] = user, ["role"] = role };
        return kind switch
        {
            // a real token of org B whose payload was edited to say org A: the signature no longer matches
            "forged payload" => ReplacePayload(TestTokens.For(OrgB, UserB), Claims(OrgA.ToString(), UserA.ToString(), "admin")),
            "expired" => DevelopmentTokens.Create(
                TestTokens.Key, OrgA, UserA, TenantRole.Admin, TimeSpan.FromMinutes(5), issuedAt: DateTime.UtcNow.AddHours(-1)),
            "signed with another key" => DevelopmentTokens.Create(OtherKey, OrgA, UserA, TenantRole.Admin, hour),
            "wrong issuer" => DevelopmentTokens.Create(TestTokens.Key, OrgA, UserA, TenantRole.Admin, hour, issuer: "someone-else"),
            "wrong audience" => DevelopmentTokens.Create(TestTokens.Key, OrgA, UserA, TenantRole.Admin, hour, audience: "another-api"),
            "org_id not a UUID" => DevelopmentTokens.Sign(TestTokens.Key, Claims("org-a", UserA.ToString(), "admin"), hour),
            "sub not a UUID" => DevelopmentTokens.Sign(TestTokens.Key, Claims(OrgA.ToString(), "ada", "admin"), hour),
            "unknown role" => DevelopmentTokens.Sign(TestTokens.Key, Claims(OrgA.ToString(), UserA.ToString(), "superuser"), hour),
            "role in capitals" => DevelopmentTokens.Sign(TestTokens.Key, Claims(OrgA.ToString(), UserA.ToString(), "Admin"), hour),
            "no org_id" => DevelopmentTokens.Sign(
                TestTokens.Key, new Dictionary<string, object> { ["sub"] = UserA.ToString(), ["role"] = "admin" }, hour),
            "two roles" => DevelopmentTokens.Sign(
                TestTokens.Key, Claims(OrgA.ToString(), UserA.ToString(), new[] { "viewer", "admin" }), hour),
            "no exp" => HandMade("HS256", new { iss = Issuer, aud = Audience, org_id = OrgA, sub = UserA, role = "admin" }),
            "alg none" => HandMade(
                "none", new { iss = Issuer, aud = Audience, org_id = OrgA, sub = UserA, role = "admin", exp = InAnHour }),
            "not a JWT" => "not-a-jwt",
            "HS512 with the right key" => HandMade(
                "HS512", new { iss = Issuer, aud = Audience, org_id = OrgA, sub = UserA, role = "admin", exp = InAnHour }),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
    }

    private static string ReplacePayload(string token, object payload)
    {
        var parts = token.Split('.');
        var claims = JsonSerializer.Deserialize<Dictionary<string, object>>(Base64UrlEncoder.Decode(parts[1]))!;
        foreach (var (name, value) in JsonSerializer.Deserialize<Dictionary<string, object>>(JsonSerializer.Serialize(payload))!)
            claims[name] = value;
        return $"{parts[0]}.{Base64UrlEncoder.Encode(JsonSerializer.Serialize(claims))}.{parts[2]}";
    }

    private const string Issuer = AuthOptions.DefaultIssuer;
    private const string Audience = AuthOptions.DefaultAudience;
    private static long InAnHour => DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();

    /// <summary>A JWT made by hand, signed with the test key by <paramref name="alg"/> (HS256, HS512) or not at all (none).</summary>
    private static string HandMade(string alg, object payload)
    {
        var header = Base64UrlEncoder.Encode(JsonSerializer.Serialize(new { alg, typ = "JWT" }));
        var body = Base64UrlEncoder.Encode(JsonSerializer.Serialize(payload));
        var input = Encoding.ASCII.GetBytes($"{header}.{body}");
        var signature = alg switch
        {
            "none" => [],
            "HS256" => System.Security.Cryptography.HMACSHA256.HashData(TestTokens.Key.Key, input),
            "HS512" => System.Security.Cryptography.HMACSHA512.HashData(TestTokens.Key.Key, input),
            _ => throw new ArgumentOutOfRangeException(nameof(alg), alg, null),
        };
        return $"{header}.{body}.{Base64UrlEncoder.Encode(signature)}";
    }
}
