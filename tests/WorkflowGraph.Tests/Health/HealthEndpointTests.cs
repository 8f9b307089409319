using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using WorkflowGraph.Database.Migrations;
using WorkflowGraph.Tests.Auth;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Health;

public sealed class HealthEndpointTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task Reports_ok_with_the_applied_migration_count()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
            host.UseSetting("ConnectionStrings:WorkflowGraph", db.OwnerConnectionString).UseTestSigningKey());
        using var client = factory.CreateClient();

        var response = await client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("ok", body.GetProperty("status").GetString());
        Assert.Equal(MigrationScript.Embedded.Count, body.GetProperty("migrations").GetInt32());

        // the event listener connects in the background: "reconnecting" until its LISTEN is in place
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (body.GetProperty("events").GetString() != "listening" && DateTime.UtcNow < deadline)
        {
            Assert.Equal("reconnecting", body.GetProperty("events").GetString());
            await Task.Delay(50);
            body = await (await client.GetAsync("/healthz")).Content.ReadFromJsonAsync<JsonElement>();
        }
        Assert.Equal("listening", body.GetProperty("events").GetString());
    }

    [Fact]
    public async Task Reports_unavailable_when_the_database_does_not_answer()
    {
        var database = new UnreachableDatabase();
        await using var factory = database.App(host => host.UseTestSigningKey());
        using var client = factory.CreateClient();

        var response = await client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("unavailable", body.GetProperty("status").GetString());
    }
}
