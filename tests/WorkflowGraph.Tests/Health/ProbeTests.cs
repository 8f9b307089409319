using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using WorkflowGraph.Database.Migrations;
using WorkflowGraph.Tests.Auth;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Health;

/// <summary><c>/healthz/live</c> and <c>/healthz/ready</c>: what each looks at, and that live never looks at the database.</summary>
public sealed class ProbeTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task Live_and_ready_answer_200_once_migrated_and_listening()
    {
        await using var factory = App(db.OwnerConnectionString);
        using var client = factory.CreateClient();

        var live = await client.GetAsync("/healthz/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("ok", (await live.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());

        // the listener connects in the background: not ready until it listens
        var (status, body) = await ReadyAsync(client);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (status != HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            Assert.Equal("reconnecting", body.GetProperty("checks").GetProperty("events").GetString());
            await Task.Delay(50);
            (status, body) = await ReadyAsync(client);
        }
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ok", body.GetProperty("status").GetString());
        var checks = body.GetProperty("checks");
        Assert.Equal(("ok", "listening", "serving"), (checks.GetProperty("database").GetString(),
            checks.GetProperty("events").GetString(), checks.GetProperty("lifecycle").GetString()));
    }

    [Fact]
    public async Task Ready_is_503_while_migrations_are_pending_and_live_stays_200()
    {
        var name = TestCluster.UniqueDatabaseName();
        var empty = await TestCluster.CreateEmptyDatabaseAsync(name);
        try
        {
            await using var factory = App(empty, migrate: false);
            using var client = factory.CreateClient();

            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz/live")).StatusCode);
            var (status, body) = await ReadyAsync(client);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("unavailable", body.GetProperty("status").GetString());
            Assert.Equal($"{MigrationScript.Embedded.Count} migration(s) pending",
                body.GetProperty("checks").GetProperty("database").GetString());
        }
        finally
        {
            await TestCluster.DropDatabaseAsync(name);
        }
    }

    [Fact]
    public async Task Ready_is_503_when_the_database_does_not_answer_and_live_stays_200()
    {
        var database = new UnreachableDatabase();
        await using var factory = database.App(host => host.UseTestSigningKey());
        using var client = factory.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz/live")).StatusCode);
        var (status, body) = await ReadyAsync(client);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        var checks = body.GetProperty("checks");
        Assert.Equal(("unavailable", "reconnecting"),
            (checks.GetProperty("database").GetString(), checks.GetProperty("events").GetString()));
        // nothing of the failure's text (host, port, user) is shown
        Assert.DoesNotContain(database.Port.ToString(), body.ToString());
    }

    private static WebApplicationFactory<Program> App(string connectionString, bool migrate = true) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(host => host
            .UseSetting("ConnectionStrings:WorkflowGraph", connectionString)
            .UseSetting("Database:Migrate", migrate ? "true" : "false")
            .UseTestSigningKey());

    private static async Task<(HttpStatusCode Status, JsonElement Body)> ReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/healthz/ready");
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }
}
