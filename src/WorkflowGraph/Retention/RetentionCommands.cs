using System.Globalization;
using WorkflowGraph.Database;

namespace WorkflowGraph.Retention;

/// <summary>
/// The owner's retention commands, run instead of the service (README, Retention archives): <c>retention run
/// [--retention 90d]</c>, <c>archive restore &lt;file&gt;</c> and <c>archive read &lt;file&gt;</c>. They read their settings as
/// the service does (appsettings, environment, command line) and connect with <c>ConnectionStrings:WorkflowGraphOwner</c>
/// (or <c>ConnectionStrings:WorkflowGraph</c>), the login the migrations use. Exit codes: 0 done, 1 refused or failed
/// (nothing deleted, nothing restored), 2 a usage or configuration error.
/// </summary>
public static class RetentionCommands
{
    public const int DefaultRetentionDays = 90;
    public const long DefaultRestoreMaxRows = 1_000_000;

    private const string Usage =
        "usage: retention run [--retention <days>d] | archive restore <file> | archive read <file>";

    /// <summary>Whether <paramref name="args"/> name one of these commands rather than the service.</summary>
    public static bool Handles(string[] args) => args is ["retention", ..] or ["archive", ..];

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error,
        Func<string[], IConfiguration>? configure = null)
    {
        if (args is ["archive", "read", var read])
            return await ArchiveFile.ReadCommandAsync(read, output);
        configure ??= ServiceConfiguration;
        try
        {
            switch (args)
            {
                case ["retention", "run", .. var rest]:
                    {
                        var (days, settings) = ParseRetention(rest);
                        var configuration = configure(settings);
                        var directory = configuration["Retention:ArchiveDirectory"];
                        if (string.IsNullOrWhiteSpace(directory))
                            throw new UsageException("Retention:ArchiveDirectory (Retention__ArchiveDirectory) is not set: " +
                                "retention run archives before it deletes and needs a directory for the archive.");
                        using var logging = LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning));
                        var run = new RetentionRun(OwnerConnection(configuration), directory, logging.CreateLogger<RetentionRun>());
                        var result = await run.RunAsync(days);
                        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                            $"retention run: before {result.Cutoff:yyyy-MM-dd'T'HH:mm:ss'Z'}: {result.Files.Count} archive files; " +
                            $"deleted {result.Traces} runs, {result.Steps} steps, {result.Context} context entries, " +
                            $"{result.Events} events; " +
                            $"dropped {result.Partitions.Length} partitions"));
                        foreach (var file in result.Files)
                            await output.WriteLineAsync($"  {file.Path} ({file.Rows} rows)");
                        return 0;
                    }
                case ["archive", "restore", var file, .. var settings]:
                    {
                        var configuration = configure(settings);
                        var maxRows = configuration.GetValue("Retention:RestoreMaxRows", DefaultRestoreMaxRows);
                        if (maxRows < 1)
                            throw new UsageException("Retention:RestoreMaxRows must be at least 1.");
                        var result = await ArchiveRestore.RestoreAsync(OwnerConnection(configuration), file, maxRows);
                        var inserted = string.Join(", ", result.Inserted.Select(t => string.Create(CultureInfo.InvariantCulture,
                            $"{t.Value} {t.Key}")));
                        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                            $"archive restore: organisation {result.Org:D}: {inserted} inserted; " +
                            $"{result.AlreadyPresent} rows already present"));
                        return 0;
                    }
                default:
                    throw new UsageException(Usage);
            }
        }
        catch (UsageException e)
        {
            await error.WriteLineAsync(e.Message);
            return 2;
        }
        catch (RetentionCommandException e)
        {
            await error.WriteLineAsync($"{args[0]} {args[1]}: {e.Message}");
            return 1;
        }
    }

    private sealed class UsageException(string message) : Exception(message);

    /// <summary><c>--retention 90d</c> (or <c>90</c>), whole days; the other arguments are settings.</summary>
    private static (int Days, string[] Settings) ParseRetention(string[] args)
    {
        var index = Array.IndexOf(args, "--retention");
        if (index < 0)
            return (DefaultRetentionDays, args);
        var text = index + 1 < args.Length ? args[index + 1] : "";
        var digits = text.EndsWith('d') ? text[..^1] : text;
        if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var days)
            || days is < 1 or > RetentionRun.MaxRetentionDays)
            throw new UsageException($"--retention takes whole days between 1d and {RetentionRun.MaxRetentionDays}d, e.g. 90d.");
        return (days, [.. args[..index], .. args[(index + 2)..]]);
    }

    private static string OwnerConnection(IConfiguration configuration)
    {
        foreach (var key in new[] { DatabaseConnections.OwnerKey, DatabaseConnections.AppKey })
            if (configuration.GetConnectionString(key) is { Length: > 0 } connection)
                return connection;
        throw new UsageException($"ConnectionStrings:{DatabaseConnections.OwnerKey} (or ConnectionStrings:{DatabaseConnections.AppKey}) " +
            "is not set: these commands need the database owner's connection.");
    }

    /// <summary>The settings the service would read: appsettings, environment variables, the command line.</summary>
    private static IConfiguration ServiceConfiguration(string[] settings) =>
        WebApplication.CreateBuilder(settings).Configuration;
}
