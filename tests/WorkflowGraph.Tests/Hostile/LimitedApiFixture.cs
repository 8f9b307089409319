using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Auth;
using WorkflowGraph.Tests.Database;

namespace WorkflowGraph.Tests.Hostile;

/// <summary>
/// The API over graph-data.sql with short limits (a 5 s execution timeout, 20,000-byte responses) and its log kept, for
/// the tests of failure paths; and the means to make a request wait in the database (a row lock) and to find it there.
/// </summary>
public sealed class LimitedApiFixture : GraphApiFixture
{
    public const int TimeoutSeconds = 5;
    public const int MaxResponseBytes = 20_000;

    public LogCapture Log { get; } = new();

    protected override void ConfigureHost(IWebHostBuilder host) => host
        .UseSetting("GraphQL:ExecutionTimeoutSeconds", TimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture))
        .UseSetting("GraphQL:MaxResponseBytes", MaxResponseBytes.ToString(System.Globalization.CultureInfo.InvariantCulture))
        .ConfigureLogging(logging => logging.AddProvider(Log));

    /// <summary>Holds a lock on a run (as its owner would, mid-update) until disposed: a mutation on that run waits.</summary>
    public async Task<IAsyncDisposable> LockRunAsync(long traceId)
    {
        var connection = await Database.DataSource.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await connection.ExecAsync("SELECT 1 FROM workflow_trace WHERE id = $1 FOR UPDATE", traceId);
        return new Lock(connection, transaction);
    }

    /// <summary>The server process of the service's statement that waits as <paramref name="waitEventType"/> says.</summary>
    public async Task<int> WaitingBackendAsync(string waitEventType, string? waitEvent = null)
    {
        await using var connection = await Database.DataSource.OpenConnectionAsync();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            var pid = await connection.ScalarAsync<int>("""
                SELECT pid FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()
                   AND wait_event_type = $1 AND ($2::text IS NULL OR wait_event = $2)
                 LIMIT 1
                """, waitEventType, waitEvent);
            if (pid != 0)
                return pid;
            await Task.Delay(50);
        }
        throw new TimeoutException($"no statement of the service waited on {waitEventType}");
    }

    /// <summary>How many of the service's statements wait on a lock now.</summary>
    public async Task<long> LockWaitersAsync()
    {
        await using var connection = await Database.DataSource.OpenConnectionAsync();
        return await connection.ScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
    }

    public async Task TerminateAsync(int pid)
    {
        await using var connection = await Database.DataSource.OpenConnectionAsync();
        await connection.ExecAsync("SELECT pg_terminate_backend($1)", pid);
    }

    private sealed class Lock(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await transaction.RollbackAsync();
            await connection.DisposeAsync();
        }
    }
}
