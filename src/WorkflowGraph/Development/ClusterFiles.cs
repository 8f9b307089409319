using System.Security.Cryptography;
using WorkflowGraph.Hosting;

namespace WorkflowGraph.Development;

/// <summary>The on-disk side of an embedded cluster: initdb, settings, pid file and pg_ctl start.</summary>
internal sealed class ClusterFiles(string root, PostgresBinaries binaries, string? runAs)
{
    private const string SettingsFile = "workflowgraph.conf";
    // sun_path holds 108 bytes and PostgreSQL appends "/.s.PGSQL.NNNNN"; deeper folders get TCP only.
    private const int MaxSocketDirectoryLength = 80;

    private string DataDirectory => EmbeddedPostgres.DataDirectoryOf(root);
    private string PasswordFile => PasswordFileOf(root);

    public static string PasswordFileOf(string root) => Path.Combine(root, "password");

    public static string? SocketDirectoryOf(string root)
    {
        var socket = Path.Combine(root, "run");
        return socket.Length <= MaxSocketDirectoryLength ? socket : null;
    }

    /// <returns>The owner's password.</returns>
    public async Task<string> InitialiseAsync(string owner, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(root);
        if (File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            return File.Exists(PasswordFile)
                ? (await File.ReadAllTextAsync(PasswordFile, cancellationToken)).Trim()
                : throw new InvalidOperationException(
                    $"{DataDirectory} holds a cluster but {PasswordFile} is missing; delete {root} to start afresh.");
        }

        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        await File.WriteAllTextAsync(PasswordFile, password + "\n", cancellationToken);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(PasswordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        if (SocketDirectoryOf(root) is { } socket) Directory.CreateDirectory(socket);
        await ServiceUser.ChownAsync(runAs, root, cancellationToken);
        await EnsureReachableAsync(cancellationToken);

        await ProcessRunner.RunCheckedAsync(binaries.Initdb,
        [
            "-D", DataDirectory, "-U", owner, "--encoding=UTF8", "--locale=C",
            "--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile", PasswordFile, "--no-instructions",
        ], runAs, cancellationToken: cancellationToken);
        await File.AppendAllTextAsync(Path.Combine(DataDirectory, "postgresql.conf"),
            $"\ninclude_if_exists = '{SettingsFile}'\n", cancellationToken);
        return password;
    }

    /// <summary>Rewritten on every start so that changes here reach existing clusters.</summary>
    public async Task WriteSettingsAsync(EmbeddedPostgresOptions options, CancellationToken cancellationToken)
    {
        var lines = new List<string>
        {
            "# Written by WorkflowGraph's EmbeddedPostgres on every start; edits are lost.",
            "listen_addresses = '127.0.0.1'",
            $"unix_socket_directories = '{SocketDirectoryOf(root)?.Replace("'", "''", StringComparison.Ordinal)}'",
            $"max_connections = {options.MaxConnections}",
            "shared_buffers = 128MB",
            "timezone = 'UTC'",
            "log_timezone = 'UTC'",
            "log_min_duration_statement = 1000",
        };
        if (!options.Durable)
        {
            lines.AddRange(["fsync = off", "synchronous_commit = off", "full_page_writes = off"]);
        }
        var path = Path.Combine(DataDirectory, SettingsFile);
        await File.WriteAllLinesAsync(path, lines, cancellationToken);
        await ServiceUser.ChownAsync(runAs, path, cancellationToken);
    }

    /// <returns>The port of a postmaster already serving this data directory, or null.</returns>
    public async Task<int?> RunningPortAsync(CancellationToken cancellationToken)
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile)) return null;
        var status = await ProcessRunner.RunAsync(binaries.PgCtl, ["status", "-D", DataDirectory], runAs,
            cancellationToken: cancellationToken);
        if (status.ExitCode != 0) return null;
        // Line 4 of postmaster.pid is the port (see PostgreSQL's pidfile.h).
        var lines = await File.ReadAllLinesAsync(pidFile, cancellationToken);
        return lines.Length > 3 && int.TryParse(lines[3], out var port) ? port : null;
    }

    /// <returns>The port the server now listens on.</returns>
    public async Task<int> StartAsync(CancellationToken cancellationToken)
    {
        var logFile = Path.Combine(root, "postgres.log");
        for (var attempt = 1; ; attempt++)
        {
            var port = FreeTcpPort.Next();
            var result = await ProcessRunner.RunAsync(binaries.PgCtl,
                ["start", "-D", DataDirectory, "-l", logFile, "-w", "-t", "60", "-s", "-o", $"-p {port}"],
                runAs, cancellationToken: cancellationToken);
            if (result.ExitCode == 0) return port;

            var log = File.Exists(logFile) ? await File.ReadAllTextAsync(logFile, cancellationToken) : "";
            // Another process may take the free port between probing and binding; try another.
            if (attempt < 3 && log.Contains("already in use", StringComparison.Ordinal)) continue;
            var tail = string.Join('\n', log.Split('\n').TakeLast(20));
            throw new InvalidOperationException($"pg_ctl start failed ({result.Output}). Last lines of {logFile}:\n{tail}");
        }
    }

    private async Task EnsureReachableAsync(CancellationToken cancellationToken)
    {
        if (runAs is null) return;
        var probe = await ProcessRunner.RunAsync("test", ["-w", root], runAs, cancellationToken: cancellationToken);
        if (probe.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"The OS user '{runAs}' that runs PostgreSQL cannot write to {root}; " +
                "every parent folder must be traversable (chmod o+x) by that user.");
        }
    }
}
