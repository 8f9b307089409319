using Npgsql;
using WorkflowGraph.Database.Migrations;
using WorkflowGraph.Development;
using WorkflowGraph.Hosting;
using WorkflowGraph.Tests.Database;

namespace WorkflowGraph.Tests.Replication;

/// <summary>
/// A primary and a real streaming standby on loopback, for one test class: a durable cluster of their own (the test
/// run's shared cluster runs without full-page writes, which a base backup needs), migrated with graph-data.sql loaded,
/// then <c>pg_basebackup -R</c> into a second data directory started as a hot standby. Both are stopped and deleted when
/// the class is done.
/// </summary>
public sealed class StreamingReplica : IAsyncLifetime
{
    private readonly string _root = Path.Combine("/tmp", "workflowgraph-replica-" + Guid.NewGuid().ToString("N")[..12]);
    private EmbeddedPostgres? _primary;
    private string? _runAs;
    private int _standbyPort;

    public EmbeddedPostgres Primary => _primary ?? throw new InvalidOperationException("Fixture not initialised.");

    public string PrimaryConnectionString => Primary.ConnectionString;

    public string StandbyConnectionString =>
        new NpgsqlConnectionStringBuilder(Primary.ConnectionString) { Port = _standbyPort }.ConnectionString;

    private string StandbyData => Path.Combine(_root, "standby", "data");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        _primary = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(Path.Combine(_root, "primary")) { Durable = true });
        await new MigrationRunner(Primary.ConnectionString, MigrationScript.Embedded).MigrateAsync();
        await using (var connection = new NpgsqlConnection(Primary.ConnectionString))
        {
            await connection.OpenAsync();
            await connection.ExecAsync(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Api", "graph-data.sql")));
        }

        _runAs = await ServiceUser.ResolveAsync();
        Directory.CreateDirectory(Path.Combine(_root, "standby"));
        await ServiceUser.ChownAsync(_runAs, _root);
        await ServiceUser.ChownAsync(_runAs, Path.Combine(_root, "standby"));
        await ProcessRunner.RunCheckedAsync(Path.Combine(Primary.Binaries.Directory, "pg_basebackup"),
            ["-D", StandbyData, "-h", "127.0.0.1", "-p", Primary.Port.ToString(), "-U", EmbeddedPostgres.OwnerName,
                "-R", "-X", "stream", "-c", "fast"],
            _runAs, new Dictionary<string, string> { ["PGPASSWORD"] = Primary.Password });
        _standbyPort = FreeTcpPort.Next();
        await ProcessRunner.RunCheckedAsync(Primary.Binaries.PgCtl,
            ["start", "-D", StandbyData, "-l", Path.Combine(_root, "standby", "postgres.log"), "-w", "-t", "60", "-s",
                "-o", $"-p {_standbyPort}"],
            _runAs);
        await WaitUntilStreamingAsync();
    }

    /// <summary>Stops (true) or resumes (false) the standby's replay of the WAL it receives: a replica falling behind.</summary>
    /// <remarks>A pause is only requested by <c>pg_wal_replay_pause()</c>; this waits until replay has stopped (a WAL
    /// record written on the primary makes the standby's startup process see the request), so that what the primary
    /// writes next is surely not replayed.</remarks>
    public async Task PauseReplayAsync(bool pause)
    {
        await using var connection = new NpgsqlConnection(StandbyConnectionString);
        await connection.OpenAsync();
        if (!pause)
        {
            await connection.ExecAsync("SELECT pg_wal_replay_resume()");
            return;
        }
        await connection.ExecAsync("SELECT pg_wal_replay_pause()");
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (await connection.ScalarAsync<string>("SELECT pg_get_wal_replay_pause_state()") != "paused")
        {
            if (DateTime.UtcNow > deadline)
                throw new InvalidOperationException("the standby did not pause its replay");
            await using (var primary = new NpgsqlConnection(PrimaryConnectionString))
            {
                await primary.OpenAsync();
                await primary.ExecAsync("SELECT pg_logical_emit_message(false, 'workflowgraph-tests', 'pause')");
            }
            await Task.Delay(50);
        }
    }

    private async Task WaitUntilStreamingAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        await using var primary = NpgsqlDataSource.Create(Primary.ConnectionString);
        while (true)
        {
            await using var streaming = primary.CreateCommand("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'");
            if ((long)(await streaming.ExecuteScalarAsync())! > 0)
                return;
            if (DateTime.UtcNow > deadline)
                throw new InvalidOperationException("the standby did not start streaming");
            await Task.Delay(100);
        }
    }

    public async Task DisposeAsync()
    {
        if (Directory.Exists(StandbyData))
            await ProcessRunner.RunAsync(Primary.Binaries.PgCtl, ["stop", "-D", StandbyData, "-m", "immediate", "-w", "-s"], _runAs);
        if (_primary is not null)
            await _primary.StopAsync("immediate");
        Directory.Delete(_root, recursive: true);
    }
}
