using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace WorkflowGraph.Development;

/// <summary>
/// A private PostgreSQL cluster in a folder of its own: initialised on first use, started on a free port on
/// 127.0.0.1 (or reused if already running there), stopped on dispose if this instance started it.
/// </summary>
public sealed class EmbeddedPostgres : IAsyncDisposable, IDisposable
{
    public const string OwnerName = "workflowgraph_owner";

    private readonly PostgresBinaries _binaries;
    private readonly string? _runAs;
    private readonly bool _startedHere;
    private readonly ILogger _logger;
    private int _stopped;

    private EmbeddedPostgres(EmbeddedPostgresOptions options, PostgresBinaries binaries, string? runAs, int port,
        string password, bool startedHere, ILogger logger)
    {
        RootDirectory = options.RootDirectory;
        Database = options.Database;
        _binaries = binaries;
        _runAs = runAs;
        Port = port;
        Password = password;
        _startedHere = startedHere;
        _logger = logger;
    }

    public string RootDirectory { get; }
    public string DataDirectory => DataDirectoryOf(RootDirectory);
    public string LogFile => Path.Combine(RootDirectory, "postgres.log");
    public string? Database { get; }
    public int Port { get; }
    public string Password { get; }
    public PostgresBinaries Binaries => _binaries;

    /// <summary>Owner (superuser) connection string to <see cref="Database"/>.</summary>
    public string ConnectionString => GetConnectionString(Database ?? "postgres");

    public string GetConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = OwnerName,
        Password = Password,
        Database = database,
    }.ConnectionString;

    public static async Task<EmbeddedPostgres> StartAsync(
        EmbeddedPostgresOptions options, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        logger ??= NullLogger.Instance;
        var binaries = PostgresBinaries.Find();
        var runAs = await ServiceUser.ResolveAsync(options.RunAsUser, cancellationToken);
        var root = Path.GetFullPath(options.RootDirectory);
        options = options with { RootDirectory = root };
        var cluster = new ClusterFiles(root, binaries, runAs);

        var password = await cluster.InitialiseAsync(OwnerName, cancellationToken);
        await cluster.WriteSettingsAsync(options, cancellationToken);

        var runningPort = await cluster.RunningPortAsync(cancellationToken);
        var port = runningPort ?? await cluster.StartAsync(cancellationToken);
        var postgres = new EmbeddedPostgres(options, binaries, runAs, port, password, runningPort is null, logger);
        try
        {
            await postgres.EnsureDatabaseAsync(cancellationToken);
        }
        catch
        {
            await postgres.DisposeAsync();
            throw;
        }
        logger.LogInformation(
            "Embedded PostgreSQL {State} on 127.0.0.1:{Port}, folder {Root} (psql: {Psql})",
            runningPort is null ? "started" : "already running", port, root, postgres.PsqlHint());
        return postgres;
    }

    /// <summary>Stops the server if this instance started it. <c>immediate</c> skips the shutdown checkpoint.</summary>
    public async Task StopAsync(string mode = "fast")
    {
        if (!_startedHere || Interlocked.Exchange(ref _stopped, 1) == 1) return;
        var result = await ProcessRunner.RunAsync(
            _binaries.PgCtl, ["stop", "-D", DataDirectory, "-m", mode, "-w", "-s"], _runAs);
        if (result.ExitCode != 0 && File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            _logger.LogWarning("pg_ctl stop failed: {Output}", result.Output);
        }
        else
        {
            _logger.LogInformation("Embedded PostgreSQL in {Root} stopped", RootDirectory);
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    public void Dispose() => StopAsync().GetAwaiter().GetResult();

    internal static string DataDirectoryOf(string root) => Path.Combine(root, "data");

    private string PsqlHint() => ClusterFiles.SocketDirectoryOf(RootDirectory) is { } socket
        ? $"psql -h {socket} -p {Port} -U {OwnerName} {Database ?? "postgres"}"
        : $"psql -h 127.0.0.1 -p {Port} -U {OwnerName} {Database ?? "postgres"} (password in {ClusterFiles.PasswordFileOf(RootDirectory)})";

    private async Task EnsureDatabaseAsync(CancellationToken cancellationToken)
    {
        if (Database is null) return;
        var admin = new NpgsqlConnectionStringBuilder(GetConnectionString("postgres")) { Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection)
        {
            Parameters = { new() { Value = Database } },
        };
        if (await exists.ExecuteScalarAsync(cancellationToken) is not null) return;
        await using var create = new NpgsqlCommand($"CREATE DATABASE {QuoteIdentifier(Database)}", connection);
        await create.ExecuteNonQueryAsync(cancellationToken);
    }

    public static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
