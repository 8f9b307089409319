using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using WorkflowGraph.Tests.Auth;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Telemetry;

public sealed class TelemetryDisabledTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task With_OTEL_SDK_DISABLED_there_is_no_metrics_endpoint_and_queries_still_run()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host
            .UseSetting("ConnectionStrings:WorkflowGraph", db.OwnerConnectionString)
            .UseSetting("OTEL_SDK_DISABLED", "true")
            .UseTestSigningKey());
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", TestTokens.Bearer(Guid.NewGuid(), Guid.NewGuid()));

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/metrics")).StatusCode);
        var response = await client.GetAsync("/graphql?query=%7B%20traces%20%7B%20totalCount%20%7D%20%7D");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"totalCount\":0", await response.Content.ReadAsStringAsync());
    }
}
