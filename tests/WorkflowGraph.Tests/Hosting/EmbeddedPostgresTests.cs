using Npgsql;
using WorkflowGraph.Development;

namespace WorkflowGraph.Tests.Hosting;

/// <summary>A second, short-lived cluster: the only test that pays for its own initdb.</summary>
public sealed class EmbeddedPostgresTests
{
    [Fact]
    public async Task Initialises_starts_answers_reuses_and_stops()
    {
        var root = Path.Combine("/tmp", $"workflowgraph-embedded-test-{Guid.NewGuid():N}");
        try
        {
            var options = new EmbeddedPostgresOptions(root) { Database = "embedded_check", Durable = false };
            int port;
            await using (var postgres = await EmbeddedPostgres.StartAsync(options))
            {
                port = postgres.Port;
                Assert.Equal(1, await SelectOneAsync(postgres.ConnectionString));
                Assert.True(File.Exists(Path.Combine(root, "password")));
                if (!OperatingSystem.IsWindows())
                {
                    Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(root, "password")));
                }

                // A second instance on the same folder reuses the running server and leaves it running.
                await using (var again = await EmbeddedPostgres.StartAsync(options))
                {
                    Assert.Equal(postgres.Port, again.Port);
                }
                Assert.Equal(1, await SelectOneAsync(postgres.ConnectionString));
            }

            Assert.False(File.Exists(Path.Combine(root, "data", "postmaster.pid")));
            await Assert.ThrowsAnyAsync<NpgsqlException>(
                () => SelectOneAsync($"Host=127.0.0.1;Port={port};Username=x;Password=y;Timeout=3"));
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<int> SelectOneAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        return (int)(await command.ExecuteScalarAsync())!;
    }
}
