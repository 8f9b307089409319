using System.Globalization;
using Npgsql;

namespace WorkflowGraph.Retention;

/// <summary>A retention run or restore that did nothing, and why (no value of the data in the message).</summary>
public sealed class RetentionCommandException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>What one <see cref="RetentionRun"/> deleted and the files that hold it.</summary>
public sealed record RetentionRunResult(DateTime Cutoff, long Traces, long Steps, long Context, long Events, string[] Partitions,
    IReadOnlyList<WrittenArchive> Files);

/// <summary>
/// <c>retention run</c>: the owner's retention, archived. In one transaction on the owner connection, with the cutoff
/// held at a UTC midnight (<c>now() - retention</c>, truncated to the day), it reads everything
/// <c>cleanup_old_execution_data</c> (db/migrations/049) is about to delete — every organisation's finished runs that
/// ended before the cutoff with their steps, context and events, and the other rows of the expired event partitions —
/// writes it to Parquet (one file per organisation and month, <c>&lt;org&gt;/retention-YYYY-MM-before-YYYYMMDD.parquet</c>,
/// synced and renamed into place), journals the files (<c>retention_archive_files</c>), and only then deletes and drops
/// with <c>p_archived =&gt; true</c>. The expired partitions are locked against writes while they are read, the runs
/// locked, and the deleted counts must equal the archived ones or nothing is deleted. A failure before the commit
/// removes the files and deletes nothing. A file the journal does not know is from a run that did not commit (its rows
/// are still in the database); the next run removes it and archives those rows again, so re-running after a crash
/// neither duplicates nor loses. One run at a time per database (an advisory lock).
/// </summary>
public sealed class RetentionRun(string ownerConnectionString, string directory, ILogger logger)
{
    public const int MaxRetentionDays = 36500;

    /// <summary>"WFRetain": a session lock, held for the whole run (journal, orphans, archive, delete).</summary>
    public const long LockKey = 0x5746_5265_7461_696E;

    private const string Archive =
        "WITH doomed AS MATERIALIZED (" +
        "  SELECT id, org_id, end_time FROM public.workflow_trace" +
        "   WHERE status NOT IN ('pending', 'active') AND end_time < $1 FOR UPDATE), " +
        "expired AS MATERIALIZED (SELECT partition::oid AS oid FROM public.expired_workflow_event_partitions($1)) " +
        "SELECT d.org_id, to_char(d.end_time AT TIME ZONE 'UTC', 'YYYY-MM') AS month, r.tbl, r.id, d.id AS trace_id, r.created_at, r.row " +
        "FROM doomed d CROSS JOIN LATERAL (" +
        "  SELECT 'workflow_trace' AS tbl, t.id, t.created_at, row_to_json(t)::text AS row FROM public.workflow_trace t WHERE t.id = d.id" +
        "  UNION ALL SELECT 'workflow_steps', s.id, s.created_at, row_to_json(s)::text" +
        "    FROM public.workflow_steps s WHERE s.trace_id = d.id" +
        "  UNION ALL SELECT 'workflow_trace_context', c.id, c.created_at, row_to_json(c)::text" +
        "    FROM public.workflow_trace_context c WHERE c.trace_id = d.id" +
        "  UNION ALL SELECT 'workflow_events', e.id, e.created_at, row_to_json(e)::text" +
        "    FROM public.workflow_events e WHERE e.trace_id = d.id" +
        ") r " +
        // the expired partitions' rows of runs that stay (open, or ended inside the window): dropped by their own time
        "UNION ALL " +
        "SELECT e.org_id, to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM'), 'workflow_events', e.id, e.trace_id, e.created_at," +
        "       row_to_json(e)::text " +
        "  FROM public.workflow_events e " +
        " WHERE e.created_at < $1 " +
        "   AND (e.tableoid IN (SELECT oid FROM expired) OR e.tableoid = 'public.workflow_events_default'::regclass) " +
        "   AND NOT EXISTS (SELECT 1 FROM doomed d WHERE d.id = e.trace_id) " +
        "ORDER BY 1, 2, 5, 3, 4";

    public async Task<RetentionRunResult> RunAsync(int retentionDays, CancellationToken cancellationToken = default)
    {
        if (retentionDays is < 1 or > MaxRetentionDays)
            throw new RetentionCommandException($"--retention must be between 1 and {MaxRetentionDays} days.");
        var root = Path.GetFullPath(directory);
        // unpooled: closing the connection ends the session and with it the run's advisory lock
        await using var connection = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(ownerConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        if (!await ScalarAsync<bool>(connection, null, "SELECT pg_try_advisory_lock($1)", cancellationToken, LockKey))
            throw new RetentionCommandException("Another retention run holds this database's lock; nothing was done.");

        var journal = new HashSet<string>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand("SELECT file FROM public.retention_archive_files", connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                journal.Add(reader.GetString(0));
        RemoveUncommitted(root, journal);

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecAsync(connection, transaction, "SET LOCAL TimeZone = 'UTC'", cancellationToken);
        var cutoff = await ScalarAsync<DateTime>(connection, transaction,
            "SELECT date_trunc('day', now() - make_interval(days => $1))", cancellationToken, retentionDays);
        await LockExpiredAsync(connection, transaction, cutoff, cancellationToken);

        var day = cutoff.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var files = new ArchiveWriter(root, (org, month) => FreeName(journal, org, $"retention-{month}-before-{day}"), replace: true);
        var archived = new Dictionary<string, long>(StringComparer.Ordinal);
        RetentionRunResult result;
        try
        {
            await using (var command = new NpgsqlCommand(Archive, connection, transaction))
            {
                command.Parameters.AddWithValue(cutoff);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    var table = (await files.WriteAsync(reader, cancellationToken)).Table;
                    archived[table] = archived.GetValueOrDefault(table) + 1;
                }
            }
            await files.CompleteAsync(cancellationToken);
            foreach (var file in files.Written)
                await ExecAsync(connection, transaction,
                    "INSERT INTO public.retention_archive_files (file, org_id, month, cutoff, row_count) VALUES ($1, $2, $3, $4, $5)",
                    cancellationToken, Relative(root, file.Path), file.Org, file.Month, cutoff, file.Rows);
            result = await DeleteAsync(connection, transaction, cutoff, files.Written, cancellationToken);
            Check(result, archived);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await files.DiscardAsync();
            throw e switch
            {
                RetentionCommandException => e,
                IOException or UnauthorizedAccessException => new RetentionCommandException(
                    $"The archive could not be written ({e.Message}); nothing was deleted.", e),
                PostgresException pg => new RetentionCommandException(
                    $"The database refused the retention run ({pg.SqlState}: {pg.MessageText}); nothing was deleted.", e),
                _ => new RetentionCommandException($"The retention run failed ({e.Message}); nothing was deleted.", e),
            };
        }
        catch
        {
            await files.DiscardAsync();
            throw;
        }
        // the files are complete and journalled in this transaction: a commit that fails leaves them as files the
        // journal does not know, which the next run replaces
        try
        {
            await transaction.CommitAsync(cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            throw new RetentionCommandException(
                $"The commit failed ({e.Message}). If it did not happen nothing was deleted, and the next run replaces the files " +
                "this one wrote.", e);
        }
        logger.LogInformation("Retention archived {Files} files and deleted {Traces} runs and {Events} events before {Cutoff:o}",
            result.Files.Count, result.Traces, result.Events, result.Cutoff);
        return result;
    }

    /// <summary>Writes into the expired partitions (and the default one) wait until the run ends; reads do not.</summary>
    private static async Task LockExpiredAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, DateTime cutoff,
        CancellationToken cancellationToken)
    {
        var names = new List<string> { "public.workflow_events_default" };
        await using (var command = new NpgsqlCommand(
            "SELECT partition::text FROM public.expired_workflow_event_partitions($1)", connection, transaction))
        {
            command.Parameters.AddWithValue(cutoff);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                names.Add(reader.GetString(0)); // regclass text: a quoted identifier from the catalog
        }
        await ExecAsync(connection, transaction, $"LOCK TABLE {string.Join(", ", names)} IN SHARE MODE", cancellationToken);
    }

    private static async Task<RetentionRunResult> DeleteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        DateTime cutoff, IReadOnlyList<WrittenArchive> files, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT * FROM public.cleanup_old_execution_data(now() - $1::timestamptz, p_archived => true)", connection, transaction);
        command.Parameters.AddWithValue(cutoff);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new RetentionRunResult(cutoff, reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3),
            reader.GetFieldValue<string[]>(4), [.. files]);
    }

    /// <summary>The rows deleted are the rows archived, table by table, or nothing is deleted.</summary>
    private static void Check(RetentionRunResult result, Dictionary<string, long> archived)
    {
        if (result.Traces != archived.GetValueOrDefault("workflow_trace") || result.Steps != archived.GetValueOrDefault("workflow_steps")
            || result.Context != archived.GetValueOrDefault("workflow_trace_context")
            || result.Events != archived.GetValueOrDefault("workflow_events"))
            throw new RetentionCommandException(
                "The rows to delete changed while they were archived; nothing was deleted. Run retention again.");
    }

    /// <summary>Files of runs that did not commit: their rows are still in the database and are archived again now.</summary>
    private void RemoveUncommitted(string root, HashSet<string> journal)
    {
        if (!Directory.Exists(root))
            return;
        foreach (var folder in Directory.EnumerateDirectories(root))
        {
            if (!Guid.TryParseExact(Path.GetFileName(folder), "D", out _))
                continue;
            var stale = Directory.EnumerateFiles(folder, ".retention-*.partial")
                .Concat(Directory.EnumerateFiles(folder, "retention-*.parquet").Where(f => !journal.Contains(Relative(root, f))));
            foreach (var file in stale.ToList())
            {
                logger.LogWarning("Removing {File}: written by a retention run that did not commit", Relative(root, file));
                File.Delete(file);
            }
        }
    }

    /// <summary>A name the journal does not hold yet: a committed archive is never replaced.</summary>
    private static string FreeName(HashSet<string> journal, Guid org, string stem)
    {
        var name = stem + ".parquet";
        for (var n = 2; journal.Contains($"{org:D}/{name}"); n++)
            name = $"{stem}-{n}.parquet";
        return name;
    }

    private static string Relative(string root, string path) => Path.GetRelativePath(root, path).Replace('\\', '/');

    private static async Task ExecAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql,
        CancellationToken cancellationToken, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in values)
            command.Parameters.AddWithValue(value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql,
        CancellationToken cancellationToken, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in values)
            command.Parameters.AddWithValue(value);
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
