using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using WorkflowGraph.Hosting;

namespace WorkflowGraph.Tests.Infrastructure;

/// <summary>
/// A database that does not answer: a loopback port nothing listens on, so a connection fails at once. For tests of
/// startup, configuration and failure paths; <see cref="App"/> is the service pointed at it, migrations off.
/// </summary>
internal sealed class UnreachableDatabase
{
    /// <summary>The closed port (a test can check that no response shows it).</summary>
    public int Port { get; } = FreeTcpPort.Next();

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=nobody;Password=none;Database=none;Timeout=2";

    /// <summary>The service against this database, with more settings from <paramref name="configure"/>.</summary>
    public WebApplicationFactory<Program> App(Action<IWebHostBuilder>? configure = null) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
        {
            host.UseSetting("ConnectionStrings:WorkflowGraph", ConnectionString).UseSetting("Database:Migrate", "false");
            configure?.Invoke(host);
        });
}
