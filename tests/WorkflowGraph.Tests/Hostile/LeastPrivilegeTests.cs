using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using WorkflowGraph.Database;
using WorkflowGraph.Development;
using WorkflowGraph.Tests.Auth;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Hostile;

/// <summary>
/// The service's login is no superuser and owns nothing (the embedded cluster's, and so the test cluster's, is
/// <see cref="ServiceLogin"/>); the owner only migrates; startup warns when the configured login could do more.
/// </summary>
public sealed class LeastPrivilegeTests(DatabaseFixture database) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task The_embedded_clusters_service_login_is_a_plain_member_of_workflowgraph_app()
    {
        var embedded = new EmbeddedDatabase(await TestCluster.GetAsync(), "unused", NullLogger.Instance);
        Assert.Equal(ServiceLogin.Name, new NpgsqlConnectionStringBuilder(embedded.AppConnectionString).Username);
        Assert.Empty(await LoginPrivilegeCheck.ProblemsAsync(database.ServiceConnectionString, default));
        Assert.Contains(await LoginPrivilegeCheck.ProblemsAsync(database.OwnerConnectionString, default),
            problem => problem.Contains("superuser", StringComparison.Ordinal));

        await using var connection = new NpgsqlConnection(database.ServiceConnectionString);
        await connection.OpenAsync();
        Assert.True(await connection.ScalarAsync<bool>("SELECT pg_has_role(current_user, 'workflowgraph_app', 'MEMBER')"));
        // a statement that forgot SET ROLE and the tenant settings still sees no organisation's rows, and cannot write
        await using (var owner = await database.DataSource.OpenConnectionAsync())
        {
            await owner.ExecAsync("INSERT INTO organizations (id, name, slug) VALUES (gen_random_uuid(), 'Least', 'least-privilege')");
            Assert.Equal(1L, await owner.ScalarAsync<long>("SELECT count(*) FROM organizations WHERE slug = 'least-privilege'"));
        }
        Assert.Equal(0L, await connection.ScalarAsync<long>("SELECT count(*) FROM organizations WHERE slug = 'least-privilege'"));
        var refused = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecAsync("CREATE TABLE mine (id int)"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Startup_warns_when_the_services_login_is_a_superuser(bool asOwner)
    {
        var log = new LogCapture();
        await using var app = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host
            .UseSetting("ConnectionStrings:WorkflowGraph", asOwner ? database.OwnerConnectionString : database.ServiceConnectionString)
            .UseSetting("ConnectionStrings:WorkflowGraphOwner", database.OwnerConnectionString)
            .UseTestSigningKey()
            .ConfigureLogging(logging => logging.AddProvider(log)));
        _ = app.Services; // starts the host: migrations and the check run before it serves
        var warned = log.Messages.Any(message => message.Contains("is a superuser", StringComparison.Ordinal));
        Assert.Equal(asOwner, warned);
    }
}
