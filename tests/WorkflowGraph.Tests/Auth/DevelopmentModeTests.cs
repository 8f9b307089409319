using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using WorkflowGraph.Tests.Http;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Auth;

/// <summary>
/// Without Auth:SigningKey or Auth:Authority the service generates a key, prints ready tokens for the demo users, and
/// gives Banana Cake Pop the admin's. The key is kept in a file, so a restart leaves printed tokens valid.
/// </summary>
public sealed partial class DevelopmentModeTests(DatabaseFixture database) : IClassFixture<DatabaseFixture>, IDisposable
{
    private readonly string _keyFile = Path.Combine(Path.GetTempPath(), $"wg-dev-key-{Guid.NewGuid():N}");

    private sealed record PrintedToken(string Role, Guid Org, Guid User, string Token);

    [Fact]
    public async Task Prints_tokens_that_work_against_the_same_app_and_gives_the_admin_one_to_the_ide()
    {
        var log = new LogCapture();
        await using var app = DevelopmentApp(log);
        using var client = app.CreateClient();

        var tokens = await PrintedTokensAsync(log);
        Assert.Equal(["admin", "operator", "viewer", "admin"], tokens.Select(t => t.Role));
        Assert.Equal(Guid.Parse("0a000000-0000-4000-8000-000000000001"), tokens[0].Org);
        Assert.Equal(Guid.Parse("1a000000-0000-4000-8000-000000000001"), tokens[0].User);
        Assert.Equal(Guid.Parse("0b000000-0000-4000-8000-000000000002"), tokens[3].Org);
        foreach (var printed in tokens)
        {
            var claims = new JsonWebToken(printed.Token);
            Assert.Equal(printed.Org.ToString(), claims.GetClaim("org_id").Value);
            Assert.Equal(printed.User.ToString(), claims.GetClaim("sub").Value);
            Assert.Equal(printed.Role, claims.GetClaim("role").Value);
            Assert.InRange(claims.ValidTo - DateTime.UtcNow, TimeSpan.FromDays(29), TimeSpan.FromDays(31));

            var response = await PostAsync(client, printed.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(0, (await response.BodyAsync()).GetProperty("data").GetProperty("traces").GetProperty("totalCount").GetInt32());
        }

        var config = JsonDocument.Parse(await client.GetStringAsync("/graphql/bcp-config.json")).RootElement;
        Assert.Equal("Bearer " + tokens[0].Token, config.GetProperty("httpHeaders").GetProperty("Authorization").GetString());
    }

    [Fact]
    public async Task Keeps_the_key_in_a_private_file_so_a_restart_keeps_printed_tokens_valid()
    {
        string token;
        var first = new LogCapture();
        await using (var app = DevelopmentApp(first))
        {
            app.CreateClient().Dispose();
            token = (await PrintedTokensAsync(first))[0].Token;
        }
        Assert.True(File.Exists(_keyFile));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_keyFile));

        await using var restarted = DevelopmentApp(new LogCapture());
        using var client = restarted.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, token)).StatusCode);

        File.Delete(_keyFile);
        await using var freshKey = DevelopmentApp(new LogCapture());
        using var other = freshKey.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(other, token)).StatusCode);
    }

    private WebApplicationFactory<Program> DevelopmentApp(LogCapture log) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(host => host
            .UseSetting("ConnectionStrings:WorkflowGraph", database.OwnerConnectionString)
            .UseSetting("Auth:DevelopmentKeyFile", _keyFile)
            .ConfigureLogging(logging => logging.AddProvider(log)));

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string token)
    {
        var request = Requests.PostQuery("{ traces { totalCount } }");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.SendAsync(request);
    }

    /// <summary>The tokens of the startup banner. It is logged when the app has started, which may be a moment after
    /// WebApplicationFactory hands over the client (both are ApplicationStarted callbacks).</summary>
    private static async Task<List<PrintedToken>> PrintedTokensAsync(LogCapture log)
    {
        string? banner = null;
        for (var waited = 0; banner is null && waited < 100; waited++)
        {
            banner = log.Messages.FirstOrDefault(message => message.StartsWith("Development tokens", StringComparison.Ordinal));
            if (banner is null) await Task.Delay(50);
        }
        Assert.True(banner is not null, "no \"Development tokens\" banner within 5 s:\n" + string.Join("\n", log.Messages));
        return PrintedLine().Matches(banner)
            .Select(m => new PrintedToken(m.Groups["role"].Value, Guid.Parse(m.Groups["org"].Value), Guid.Parse(m.Groups["user"].Value),
                m.Groups["token"].Value))
            .ToList();
    }

    [GeneratedRegex(
        @"^\s+(?<role>\w+)\s+of .+ \(org (?<org>[0-9a-f-]{36}), user (?<user>[0-9a-f-]{36})\):\r?\n" +
        @"\s+(?<token>[\w-]+\.[\w-]+\.[\w-]+)\r?$",
        RegexOptions.Multiline)]
    private static partial Regex PrintedLine();

    public void Dispose() => File.Delete(_keyFile);
}
