using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using WorkflowGraph.Transport.Ide;

namespace WorkflowGraph.Tests.Http;

/// <summary>The IDE as files: page, configuration and assets (BananaCakePopBrowserTests runs it in Chromium).</summary>
public sealed partial class BananaCakePopTests(GraphQLApp app) : IClassFixture<GraphQLApp>
{
    private const string BrowserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    private readonly HttpClient _client = app.CreateClient();

    [Fact]
    public async Task A_browser_opening_the_endpoint_is_sent_to_the_ide_page()
    {
        var redirect = await _client.SendAsync(Requests.Get("/graphql", BrowserAccept));
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal("/graphql/", redirect.Headers.Location?.OriginalString);

        var page = await _client.SendAsync(Requests.Get("/graphql/", BrowserAccept));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.MediaType());
        Assert.Contains("<title>Banana Cake Pop</title>", await page.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_configuration_points_the_ide_at_this_endpoint_and_graphql_transport_ws()
    {
        var response = await _client.GetAsync("/graphql/bcp-config.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.MediaType());
        var config = await response.BodyAsync();
        Assert.Equal("/graphql", config.GetProperty("endpoint").GetString());
        Assert.True(config.GetProperty("useBrowserUrlAsEndpoint").GetBoolean());
        Assert.Equal("graphql-transport-ws", config.GetProperty("subscriptionProtocol").GetString());
        Assert.True(config.GetProperty("disableTelemetry").GetBoolean());
    }

    [Fact]
    public async Task Serves_the_scripts_the_page_names_as_immutable_javascript()
    {
        var page = await (await _client.SendAsync(Requests.Get("/graphql/", BrowserAccept))).Content.ReadAsStringAsync();
        var script = ScriptSource().Match(page).Groups["src"].Value;
        Assert.NotEmpty(script);

        var response = await _client.GetAsync("/graphql/" + script);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("javascript", response.MediaType());
        Assert.Contains("immutable", response.Headers.CacheControl?.ToString());
    }

    [Theory]
    [InlineData("/graphql/no-such-file.js")]
    [InlineData("/graphql/..%2F..%2Fappsettings.json")]
    [InlineData("/graphql/%2e%2e/%2e%2e/%2e%2e/Program.cs")]
    [InlineData("/graphql/node_modules")]
    public async Task Serves_nothing_outside_the_package(string path)
    {
        var response = await _client.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Without_the_package_a_browser_gets_a_page_saying_how_to_install_it()
    {
        await using var factory = app.Factory.WithWebHostBuilder(host => host.ConfigureTestServices(services =>
            services.AddSingleton(new BananaCakePop([Path.Combine(Path.GetTempPath(), "no-bcp-" + Guid.NewGuid().ToString("N"))]))));
        using var client = factory.CreateClient();

        var response = await client.SendAsync(Requests.Get("/graphql", BrowserAccept));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.MediaType());
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("not installed", html);
        Assert.Contains(".ci/setup.sh", html);
        Assert.Contains("npm ci --prefix src/WorkflowGraph/Transport/Ide", html);
    }

    [GeneratedRegex("""src="(?<src>static/js/main\.[^"]+\.js)""")]
    private static partial Regex ScriptSource();
}
