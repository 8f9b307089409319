using System.Diagnostics;
using Npgsql;
using WorkflowGraph.Database.Migrations;
using WorkflowGraph.Development;

namespace WorkflowGraph.Tests.Infrastructure;

/// <summary>
/// The one PostgreSQL cluster of a test run: started on first use in a folder under /tmp with fsync off, the
/// migrations applied once to <see cref="TemplateDatabase"/>, stopped and deleted once the test process has exited.
/// </summary>
public static class TestCluster
{
    public const string TemplateDatabase = "wg_template";
    private const string FolderPrefix = "workflowgraph-tests-";
    private const string OwnerPidFile = "test-process.pid";

    private static readonly Lazy<Task<EmbeddedPostgres>> Instance = new(StartAsync);
    private static NpgsqlDataSource? _admin;
    private static string? _servicePassword;

    public static Task<EmbeddedPostgres> GetAsync() => Instance.Value;

    /// <summary>
    /// Creates <paramref name="name"/>, a copy of the migrated template unless <paramref name="template"/> says otherwise.
    /// </summary>
    /// <returns>The owner (superuser) connection string of the new database.</returns>
    public static async Task<string> CreateDatabaseAsync(string name, string template = TemplateDatabase)
    {
        var cluster = await GetAsync();
        await using var create = _admin!.CreateCommand(
            $"CREATE DATABASE {EmbeddedPostgres.QuoteIdentifier(name)} TEMPLATE {EmbeddedPostgres.QuoteIdentifier(template)}");
        await create.ExecuteNonQueryAsync();
        // Database privileges are not copied from a template: repeat what migration 014 does to the database itself.
        await using var revoke = _admin.CreateCommand($"REVOKE TEMPORARY ON DATABASE {EmbeddedPostgres.QuoteIdentifier(name)} FROM PUBLIC");
        await revoke.ExecuteNonQueryAsync();
        return cluster.GetConnectionString(name);
    }

    /// <summary>The service's login (<see cref="ServiceLogin"/>: a member of workflowgraph_app, no superuser, owns
    /// nothing) to <paramref name="database"/>, as the embedded development cluster gives it.</summary>
    public static async Task<string> ServiceConnectionStringAsync(string database)
    {
        var cluster = await GetAsync();
        return ServiceLogin.ConnectionString(cluster.GetConnectionString(database), _servicePassword!);
    }

    /// <summary>An empty database (from template0) for tests that build a schema themselves.</summary>
    public static Task<string> CreateEmptyDatabaseAsync(string name) => CreateDatabaseAsync(name, "template0");

    public static async Task DropDatabaseAsync(string name)
    {
        await GetAsync();
        await using var drop = _admin!.CreateCommand(
            $"DROP DATABASE IF EXISTS {EmbeddedPostgres.QuoteIdentifier(name)} WITH (FORCE)");
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>A database name no other test (or test run on this cluster) uses.</summary>
    public static string UniqueDatabaseName() => $"db_{Guid.NewGuid():N}";

    private static async Task<EmbeddedPostgres> StartAsync()
    {
        await RemoveAbandonedClustersAsync();
        var root = Path.Combine("/tmp", FolderPrefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        await File.WriteAllTextAsync(Path.Combine(root, OwnerPidFile), Environment.ProcessId.ToString());
        var cluster = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(root) { Database = null, Durable = false });
        await StartReaperAsync(cluster);

        _admin = NpgsqlDataSource.Create(cluster.GetConnectionString("postgres"));
        await using (var create = _admin.CreateCommand($"CREATE DATABASE {TemplateDatabase}"))
        {
            await create.ExecuteNonQueryAsync();
        }
        await new MigrationRunner(cluster.GetConnectionString(TemplateDatabase), MigrationScript.Embedded).MigrateAsync();
        _servicePassword = await ServiceLogin.EnsureAsync(cluster.GetConnectionString("postgres"), cluster.RootDirectory, default);
        await ServiceLogin.GrantAppRoleAsync(cluster.GetConnectionString("postgres"), default);
        // Nobody may connect to the template: CREATE DATABASE ... TEMPLATE fails while anyone is.
        await using (var seal = _admin.CreateCommand(
            $"ALTER DATABASE {TemplateDatabase} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true"))
        {
            await seal.ExecuteNonQueryAsync();
        }
        return cluster;
    }

    /// <summary>
    /// The test host is killed moments after the last test (ProcessExit handlers do not get to finish), so a
    /// detached shell waits for this process to end, then stops the cluster and deletes its folder.
    /// </summary>
    private static async Task StartReaperAsync(EmbeddedPostgres cluster)
    {
        const string script = """
            exec </dev/null >/dev/null 2>&1
            while [ -d "/proc/$1" ]; do sleep 0.5; done
            if [ -n "$4" ]; then runuser -u "$4" -- "$3" stop -D "$2/data" -m immediate -w -s
            else "$3" stop -D "$2/data" -m immediate -w -s; fi
            rm -rf -- "$2"
            """;
        var startInfo = new ProcessStartInfo("setsid")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var runAs = await ServiceUser.ResolveAsync();
        foreach (var argument in new[]
                 {
                     "sh", "-c", script, "workflowgraph-test-reaper", Environment.ProcessId.ToString(),
                     cluster.RootDirectory, cluster.Binaries.PgCtl, runAs ?? "",
                 })
        {
            startInfo.ArgumentList.Add(argument);
        }
        using var reaper = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start the reaper.");
    }

    /// <summary>Clusters left running by test processes that were killed before their exit handler ran.</summary>
    private static async Task RemoveAbandonedClustersAsync()
    {
        foreach (var folder in Directory.GetDirectories("/tmp", FolderPrefix + "*"))
        {
            var pidFile = Path.Combine(folder, OwnerPidFile);
            if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile), out var pid) || IsAlive(pid)) continue;
            var data = Path.Combine(folder, "data");
            if (File.Exists(Path.Combine(data, "postmaster.pid")))
            {
                var runAs = await ServiceUser.ResolveAsync();
                await ProcessRunner.RunAsync(PostgresBinaries.Find().PgCtl, ["stop", "-D", data, "-m", "immediate", "-w", "-s"], runAs);
            }
            TryDelete(folder);
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
