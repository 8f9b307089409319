using System.Diagnostics;
using Npgsql;
using WorkflowGraph.Development;
using WorkflowGraph.Hosting;

namespace WorkflowGraph.Tests.Pooling;

/// <summary>
/// A real PgBouncer (Debian's package, installed by .ci/setup.sh) on a free loopback port in front of one database of
/// the test cluster, in transaction pooling mode with a small server pool. Clients are trusted (loopback only); it logs
/// in to PostgreSQL as the cluster's owner. Stopped (the process this started) and its folder deleted on dispose.
/// </summary>
public sealed class PgBouncerProcess : IAsyncDisposable
{
    public const int ServerPoolSize = 4;

    private readonly Process _process;
    private readonly string _root;

    private PgBouncerProcess(Process process, string root, int port) => (_process, _root, Port) = (process, root, port);

    public int Port { get; }

    /// <summary>A connection string to <paramref name="database"/> through this PgBouncer: statements unprepared (1.18 has no
    /// protocol-level prepared statements in transaction mode) and no reset on close (the pooler owns the sessions).</summary>
    public string ConnectionString(string database, string user) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Database = database,
        Username = user,
        MaxAutoPrepare = 0,
        NoResetOnClose = true,
    }.ConnectionString;

    public static async Task<PgBouncerProcess> StartAsync(string directConnectionString)
    {
        var direct = new NpgsqlConnectionStringBuilder(directConnectionString);
        var binary = File.Exists("/usr/sbin/pgbouncer") ? "/usr/sbin/pgbouncer"
            : throw new InvalidOperationException("PgBouncer is not installed: run .ci/setup.sh (apt-get install pgbouncer).");
        var root = Path.Combine("/tmp", "workflowgraph-pgbouncer-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var port = FreeTcpPort.Next();
        await File.WriteAllTextAsync(Path.Combine(root, "userlist.txt"), $"\"{direct.Username}\" \"\"\n");
        var server = $"host={direct.Host} port={direct.Port} dbname={direct.Database} user={direct.Username} password={direct.Password}";
        await File.WriteAllTextAsync(Path.Combine(root, "pgbouncer.ini"), $"""
            [databases]
            {direct.Database} = {server}

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = {port}
            unix_socket_dir =
            auth_type = trust
            auth_file = {root}/userlist.txt
            pool_mode = transaction
            default_pool_size = {ServerPoolSize}
            max_client_conn = 200
            ignore_startup_parameters = extra_float_digits,options
            logfile = {root}/pgbouncer.log
            """);
        var runAs = await ServiceUser.ResolveAsync();
        await ServiceUser.ChownAsync(runAs, root);
        var start = new ProcessStartInfo(runAs is null ? binary : "runuser") { UseShellExecute = false, RedirectStandardError = true };
        if (runAs is not null)
            foreach (var argument in new[] { "-u", runAs, "--", binary })
                start.ArgumentList.Add(argument);
        start.ArgumentList.Add(Path.Combine(root, "pgbouncer.ini"));
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start pgbouncer");
        var bouncer = new PgBouncerProcess(process, root, port);
        try
        {
            await bouncer.WaitUntilServingAsync(direct.Database!, direct.Username!);
        }
        catch
        {
            await bouncer.DisposeAsync();
            throw;
        }
        return bouncer;
    }

    private async Task WaitUntilServingAsync(string database, string user)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString(database, user) + ";Pooling=false");
                await connection.OpenAsync();
                return;
            }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
