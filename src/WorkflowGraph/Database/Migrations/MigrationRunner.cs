using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace WorkflowGraph.Database.Migrations;

public sealed record MigrationResult(IReadOnlyList<string> Applied, int TotalApplied);

/// <summary>
/// Applies db/migrations in ordinal name order, each file in its own transaction with its journal row in
/// <c>schema_migrations</c>. Applied files are verified by hash and never run twice.
/// </summary>
public sealed class MigrationRunner
{
    // Advisory lock keys are per database, so instances migrating different databases never wait on each other.
    private const long LockKey = 0x5746_4772_6170_684D; // "WFGraphM"

    private const string CreateJournal = """
        CREATE TABLE public.schema_migrations (
          name        text PRIMARY KEY,
          sha256      text NOT NULL,
          applied_at  timestamptz NOT NULL DEFAULT now()
        );
        -- Not secret, and lets /healthz report the count through the service's own (non-owner) login.
        GRANT SELECT ON public.schema_migrations TO PUBLIC;
        """;

    private readonly string _connectionString;
    private readonly IReadOnlyList<MigrationScript> _scripts;
    private readonly ILogger _logger;

    /// <param name="ownerConnectionString">A role allowed to run the DDL (the database owner).</param>
    /// <param name="scripts">The migrations; <see cref="MigrationScript.Embedded"/> in the service.</param>
    public MigrationRunner(string ownerConnectionString, IEnumerable<MigrationScript> scripts, ILogger? logger = null)
    {
        // Unpooled: closing a connection must end its session, releasing the advisory lock and leaving no idle
        // connection behind (CREATE DATABASE ... TEMPLATE refuses a template that has one).
        _connectionString = new NpgsqlConnectionStringBuilder(ownerConnectionString) { Pooling = false }.ConnectionString;
        _scripts = scripts.OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
        _logger = logger ?? NullLogger.Instance;
        var duplicate = _scripts.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"Migration {duplicate.Key} is given twice.", nameof(scripts));
    }

    public async Task<MigrationResult> MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var lockConnection = await OpenAsync(cancellationToken);
        // Held for the whole run, so a second instance starting at once waits and then finds nothing to do.
        await ExecuteAsync(lockConnection, $"SELECT pg_advisory_lock({LockKey})", cancellationToken);

        var journal = await ReadJournalAsync(lockConnection, cancellationToken);
        foreach (var script in _scripts)
        {
            if (journal.TryGetValue(script.Name, out var appliedSha) && appliedSha != script.Sha256)
            {
                throw new MigrationChangedException(script.Name, appliedSha, script.Sha256);
            }
        }
        var unknown = journal.Keys.Except(_scripts.Select(s => s.Name)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            _logger.LogWarning("The database has migrations this build does not know: {Names}", string.Join(", ", unknown));
        }

        var applied = new List<string>();
        foreach (var script in _scripts.Where(s => !journal.ContainsKey(s.Name)))
        {
            await ApplyAsync(script, cancellationToken);
            applied.Add(script.Name);
            _logger.LogInformation("Applied migration {Name}", script.Name);
        }
        return new MigrationResult(applied, journal.Count + applied.Count);
    }

    /// <summary>
    /// A fresh session per file, like one <c>psql -f</c> per file: a file's SET or temporary table cannot leak
    /// into the next one.
    /// </summary>
    private async Task ApplyAsync(MigrationScript script, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            await using var command = new NpgsqlCommand(script.Sql, connection, transaction) { CommandTimeout = 0 };
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException error)
        {
            throw new MigrationFailedException(script.Name, error);
        }
        await using (var record = new NpgsqlCommand(
            "INSERT INTO public.schema_migrations (name, sha256) VALUES ($1, $2)", connection, transaction))
        {
            record.Parameters.Add(new() { Value = script.Name });
            record.Parameters.Add(new() { Value = script.Sha256 });
            await record.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task<Dictionary<string, string>> ReadJournalAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('public.schema_migrations') IS NOT NULL", connection))
        {
            if (!(bool)(await exists.ExecuteScalarAsync(ct))!)
            {
                await ExecuteAsync(connection, CreateJournal, ct);
                return [];
            }
        }
        var journal = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var read = new NpgsqlCommand("SELECT name, sha256 FROM public.schema_migrations", connection);
        await using var reader = await read.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) journal[reader.GetString(0)] = reader.GetString(1);
        return journal;
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
