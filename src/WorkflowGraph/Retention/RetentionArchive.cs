using System.Globalization;
using GraphQL;
using Npgsql;
using NpgsqlTypes;
using WorkflowGraph.Database;
using WorkflowGraph.Exports;

namespace WorkflowGraph.Retention;

/// <summary>
/// Archival before retention: with <c>Retention:ArchiveDirectory</c> set, <c>cleanupOldExecutionData</c> first reads, in
/// its own transaction and with the same cutoff (the transaction's <c>now()</c>), every run that
/// <c>cleanup_old_execution_data</c> (db/migrations/049) is about to delete, with its steps, context and events — the runs
/// locked, so nothing changes under the archive — and writes them to Parquet: one file per organisation and month the
/// runs ended in, under the organisation's folder, each written under a temporary name and renamed once complete. Only
/// then does the delete run. A failure to archive (an unwritable directory, a full disk) deletes the files of this
/// cleanup and answers <c>ARCHIVE_FAILED</c>: the request is not committed, so nothing is deleted. The service deletes
/// only its caller's organisation's runs (RLS), and the partitions it drops are empty by then: the runs are the whole of
/// what it removes. Without the setting, retention deletes as before. Archives keep PHI: they are the record.
/// </summary>
public sealed class RetentionArchive(IConfiguration configuration, ExportStorage exports, ILogger<RetentionArchive> logger)
{
    public const string FailedCode = "ARCHIVE_FAILED";

    private const string Doomed =
        "WITH doomed AS MATERIALIZED (" +
        "  SELECT id, org_id, end_time FROM workflow_trace" +
        "   WHERE status NOT IN ('pending', 'active') AND end_time < now() - make_interval(days => $1)" +
        "   FOR UPDATE) " +
        "SELECT d.org_id, to_char(d.end_time AT TIME ZONE 'UTC', 'YYYY-MM'), r.tbl, r.id, d.id, r.created_at, r.row " +
        "FROM doomed d CROSS JOIN LATERAL (" +
        "  SELECT 'workflow_trace' AS tbl, t.id, t.created_at, row_to_json(t)::text AS row FROM workflow_trace t WHERE t.id = d.id" +
        "  UNION ALL SELECT 'workflow_steps', s.id, s.created_at, row_to_json(s)::text FROM workflow_steps s WHERE s.trace_id = d.id" +
        "  UNION ALL SELECT 'workflow_trace_context', c.id, c.created_at, row_to_json(c)::text" +
        "    FROM workflow_trace_context c WHERE c.trace_id = d.id" +
        "  UNION ALL SELECT 'workflow_events', e.id, e.created_at, row_to_json(e)::text FROM workflow_events e WHERE e.trace_id = d.id" +
        ") r " +
        "ORDER BY 1, 2, d.id, r.tbl, r.id";

    /// <summary>Where archives are written; null: retention does not archive.</summary>
    public string? Directory { get; } = configuration["Retention:ArchiveDirectory"] is { Length: > 0 } configured
        ? Path.GetFullPath(configured)
        : null;

    /// <summary>The hook <c>cleanupOldExecutionData</c> runs before its delete
    /// (<see cref="Querying.Mutations.MutationSpec.Prepare"/>).</summary>
    public static Task BeforeCleanupAsync(IDictionary<string, object?> input, RequestDatabase database, IServiceProvider services,
        CancellationToken cancellationToken) =>
        services.GetRequiredService<RetentionArchive>().ArchiveAsync(input["retentionDays"] as int?, database, cancellationToken);

    /// <summary>Archives what a cleanup with <paramref name="retentionDays"/> deletes; the paths of the files written.</summary>
    public async Task<IReadOnlyList<string>> ArchiveAsync(int? retentionDays, RequestDatabase database, CancellationToken cancellationToken)
    {
        // a retention the function refuses deletes nothing, so there is nothing to archive
        if (Directory is null || retentionDays is not >= 1)
            return [];
        if (Inside(Directory, exports.Root) || Inside(exports.Root, Directory))
            throw new ExecutionError("The archive directory must be kept apart from the export directory: nothing was deleted.")
            {
                Code = FailedCode,
            };
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture);
        var files = new ArchiveWriter(Directory, (_, month) => $"runs-{month}-{stamp}-{Guid.NewGuid().ToString("N")[..8]}.parquet");
        try
        {
            await database.QueryAsync(Doomed, [new NpgsqlParameter { Value = retentionDays.Value, NpgsqlDbType = NpgsqlDbType.Integer }],
                async (reader, ct) =>
                {
                    while (await reader.ReadAsync(ct))
                        await files.WriteAsync(reader, ct);
                    await files.CompleteAsync(ct);
                    return 0;
                }, cancellationToken, isolate: true);
            logger.LogInformation("Retention archived {Files} files before deleting", files.Completed.Count);
            return files.Completed;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await files.DiscardAsync();
            logger.LogWarning(e, "Retention could not write its archive; nothing was deleted");
            throw new ExecutionError("The runs due for deletion could not be archived; nothing was deleted.") { Code = FailedCode };
        }
        catch
        {
            await files.DiscardAsync();
            throw;
        }
    }

    private static bool Inside(string path, string folder)
    {
        var relative = Path.GetRelativePath(folder, path);
        return relative == "." || (!relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative));
    }
}
