using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using WorkflowGraph.Auth;
using WorkflowGraph.Development;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Http;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Auth;

/// <summary>
/// What the Auth section accepts: a key of at least 32 bytes or an authority, never both. The apps here never reach
/// a database (migrations off, and <c>{ __typename }</c> sends no SQL).
/// </summary>
public sealed class AuthConfigurationTests
{
    private static readonly UnreachableDatabase Unreachable = new();

    [Fact]
    public async Task A_signing_key_shorter_than_32_bytes_refuses_to_start_with_a_clear_message()
    {
        // The service as an operator runs it: a process that must exit on its own, saying what is wrong.
        var run = await RunServiceAsync(("Auth__SigningKey", "too-short-key"));

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("Auth:SigningKey is 13 bytes long; HS256 needs at least 32", run.Output);
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcde", "31 bytes")]
    [InlineData("ééééééééééééééé", "30 bytes")] // 15 characters, counted as UTF-8 bytes
    public void Short_keys_are_measured_in_utf8_bytes(string key, string size)
    {
        var error = ValidationError(("Auth:SigningKey", key));

        Assert.NotNull(error);
        Assert.Contains(size, error);
    }

    [Fact]
    public async Task A_key_of_32_bytes_counted_in_utf8_starts()
    {
        const string key = "éééééééééééééééé"; // 16 characters, 32 bytes
        Assert.Null(ValidationError(("Auth:SigningKey", key)));
        await using var app = App(("Auth:SigningKey", key));
        using var client = app.CreateClient();

        var token = DevelopmentTokens.Create(TokenSettings.KeyFrom(key), Guid.NewGuid(), Guid.NewGuid(), TenantRole.Viewer,
            TimeSpan.FromMinutes(5));
        var ok = await SendAsync(client, token);

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public void A_key_and_an_authority_together_are_refused()
    {
        var error = ValidationError(("Auth:SigningKey", TestTokens.SigningKey), ("Auth:Authority", "https://login.example.com/"));

        Assert.Contains("both set", error);
    }

    [Theory]
    [InlineData("http://login.example.com/")]
    [InlineData("login.example.com")]
    public void An_authority_that_is_not_https_is_refused(string authority)
    {
        var error = ValidationError(("Auth:Authority", authority));

        Assert.Contains("not an absolute https URL", error);
    }

    [Fact]
    public async Task Issuer_and_audience_are_configurable()
    {
        await using var app = App(
            ("Auth:SigningKey", TestTokens.SigningKey), ("Auth:Issuer", "https://id.example.com"), ("Auth:Audience", "dashboards"));
        using var client = app.CreateClient();
        string Token(string issuer, string audience) =>
            DevelopmentTokens.Create(
                TestTokens.Key, Guid.NewGuid(), Guid.NewGuid(), TenantRole.Viewer, TimeSpan.FromMinutes(5), issuer, audience);

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, Token("https://id.example.com", "dashboards"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(client, Token(AuthOptions.DefaultIssuer, "dashboards"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await SendAsync(client, Token("https://id.example.com", AuthOptions.DefaultAudience))).StatusCode);
    }

    [Fact]
    public async Task With_an_authority_tokens_are_checked_against_its_discovered_keys_and_issuer()
    {
        using var rsa = RSA.Create(2048);
        var signingKey = new RsaSecurityKey(rsa) { KeyId = "test-key" };
        await using var authority = await FakeAuthority.StartAsync(rsa.ExportParameters(false), signingKey.KeyId);
        await using var app = App(("Auth:Authority", authority.Url));
        using var client = app.CreateClient();
        string Token(SecurityKey key, string algorithm, string issuer) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = AuthOptions.DefaultAudience,
            Expires = DateTime.UtcNow.AddMinutes(5),
            Claims = new Dictionary<string, object>
            {
                ["sub"] = Guid.NewGuid().ToString(),
                ["org_id"] = Guid.NewGuid().ToString(),
                ["role"] = "viewer",
            },
            SigningCredentials = new SigningCredentials(key, algorithm),
        });

        var accepted = await SendAsync(client, Token(signingKey, SecurityAlgorithms.RsaSha256, authority.Url));
        var sharedKey = await SendAsync(client, Token(TestTokens.Key, SecurityAlgorithms.HmacSha256, authority.Url));
        var otherIssuer = await SendAsync(client, Token(signingKey, SecurityAlgorithms.RsaSha256, AuthOptions.DefaultIssuer));
        using var otherRsa = RSA.Create(2048);
        var otherKey = await SendAsync(
            client, Token(new RsaSecurityKey(otherRsa) { KeyId = "test-key" }, SecurityAlgorithms.RsaSha256, authority.Url));

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, sharedKey.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, otherIssuer.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, otherKey.StatusCode);
        Assert.False((await client.GetStringAsync("/graphql/bcp-config.json")).Contains("httpHeaders", StringComparison.Ordinal));
    }

    private static WebApplicationFactory<Program> App(params (string Key, string Value)[] settings) =>
        Unreachable.App(host =>
        {
            foreach (var (key, value) in settings) host.UseSetting(key, value);
        });

    /// <returns>What the options check says about these settings, or null when it accepts them.</returns>
    private static string? ValidationError(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(setting => KeyValuePair.Create(setting.Key, (string?)setting.Value))).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging();
        services.AddWorkflowGraphAuth();
        using var provider = services.BuildServiceProvider();
        try
        {
            _ = provider.GetRequiredService<IOptions<AuthOptions>>().Value;
            return null;
        }
        catch (OptionsValidationException error)
        {
            return error.Message;
        }
    }

    /// <summary>Runs the service's own binary with these environment variables until it exits (at most 60 s).</summary>
    private static async Task<(int ExitCode, string Output)> RunServiceAsync(params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "WorkflowGraph.dll")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ConnectionStrings__WorkflowGraph"] = Unreachable.ConnectionString;
        start.Environment["Database__Migrate"] = "false";
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"the service did not exit within 60 s:\n{await stdout}\n{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string token)
    {
        var request = Requests.PostQuery("{ __typename }");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client.SendAsync(request);
    }

    /// <summary>An OIDC issuer on loopback: a discovery document and the JWKS with one RSA key.</summary>
    private sealed class FakeAuthority(WebApplication app, string url) : IAsyncDisposable
    {
        public string Url { get; } = url;

        public static async Task<FakeAuthority> StartAsync(RSAParameters key, string keyId)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            string? issuer = null;
            app.MapGet("/.well-known/openid-configuration",
                () => Results.Json(new { issuer, jwks_uri = issuer + "jwks", id_token_signing_alg_values_supported = new[] { "RS256" } }));
            app.MapGet("/jwks", () => Results.Json(new
            {
                keys = new[]
                {
                    new
                    {
                        kty = "RSA",
                        use = "sig",
                        alg = "RS256",
                        kid = keyId,
                        n = Base64UrlEncoder.Encode(key.Modulus),
                        e = Base64UrlEncoder.Encode(key.Exponent),
                    },
                },
            }));
            await app.StartAsync();
            issuer = app.Urls.First().TrimEnd('/') + "/";
            return new FakeAuthority(app, issuer);
        }

        public ValueTask DisposeAsync() => app.DisposeAsync();
    }
}
