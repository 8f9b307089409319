using System.Text.Json;
using Npgsql;
using Parquet;

namespace WorkflowGraph.Retention;

/// <summary>What one restore inserted, table by table, and how many rows it found already present.</summary>
public sealed record RestoreResult(Guid Org, IReadOnlyDictionary<string, long> Inserted, long AlreadyPresent);

/// <summary>
/// <c>archive restore &lt;file&gt;</c>: an archive's rows back into the database, for the one organisation they belong to,
/// through the owner connection in one transaction: runs, then steps, context and events, each row as archived (every
/// column but the generated ones), rows already present skipped, the events' monthly partitions created when missing.
/// The whole file is read and checked first (a file that is not a complete archive of one organisation restores nothing),
/// and any refusal by the database (a workflow or node no longer there) rolls everything back. Restored events are
/// inserted like new ones: live subscribers of their runs are notified.
/// </summary>
public static class ArchiveRestore
{
    /// <summary>Tables in the order their rows are restored: parents first.</summary>
    public static readonly string[] Tables = ["workflow_trace", "workflow_steps", "workflow_trace_context", "workflow_events"];

    public static async Task<RestoreResult> RestoreAsync(string ownerConnectionString, string path, long maxRows,
        CancellationToken cancellationToken = default)
    {
        var rows = await ReadCheckedAsync(path, maxRows, cancellationToken);
        var org = Guid.Parse(rows[0].OrgId);
        await using var connection = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(ownerConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var inserted = new Dictionary<string, long>(StringComparer.Ordinal);
        try
        {
            var events = rows.Where(r => r.Table == "workflow_events").ToList();
            if (events.Count > 0)
                await ExecAsync(connection, transaction, "SELECT public.ensure_workflow_event_partitions($1, $2)", cancellationToken,
                    events.Min(r => r.CreatedAt), events.Max(r => r.CreatedAt));
            foreach (var table in Tables)
            {
                var json = "[" + string.Join(",", rows.Where(r => r.Table == table).OrderBy(r => r.Id).Select(r => r.Row)) + "]";
                var columns = await ColumnsAsync(connection, transaction, table, cancellationToken);
                inserted[table] = await ExecAsync(connection, transaction,
                    $"INSERT INTO public.{table} ({columns}) SELECT {columns} " +
                    $"FROM jsonb_populate_recordset(NULL::public.{table}, $1::jsonb) " +
                    "ON CONFLICT DO NOTHING", cancellationToken, json);
            }
            await transaction.CommitAsync(cancellationToken);
        }
        catch (PostgresException e)
        {
            throw new RetentionCommandException(
                $"The database refused the restore ({e.SqlState}: {e.MessageText}); nothing was restored.", e);
        }
        return new RestoreResult(org, inserted, rows.Count - inserted.Values.Sum());
    }

    /// <summary>Every row of the file, or a refusal: not a readable archive, over the bound, more than one organisation,
    /// an unknown table, a row that does not say what its columns say.</summary>
    private static async Task<IList<ArchivedRow>> ReadCheckedAsync(string path, long maxRows, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
            throw new RetentionCommandException($"No such file: {path}; nothing was restored.");
        IList<ArchivedRow> rows;
        try
        {
            await using (var file = File.OpenRead(path))
            {
                await using var reader = await ParquetReader.CreateAsync(file, cancellationToken: cancellationToken);
                long count = 0;
                for (var i = 0; i < reader.RowGroupCount; i++)
                {
                    using var group = reader.OpenRowGroupReader(i);
                    count += group.RowCount;
                }
                if (count > maxRows)
                    throw new RetentionCommandException(
                        $"{path} holds {count} rows, more than Retention:RestoreMaxRows ({maxRows}); nothing was restored.");
            }
            rows = await ArchiveFile.ReadAsync(path, cancellationToken);
        }
        catch (Exception e) when (e is not (RetentionCommandException or OperationCanceledException))
        {
            throw new RetentionCommandException($"{path} is not a readable archive ({e.Message}); nothing was restored.", e);
        }
        if (rows.Count == 0)
            throw new RetentionCommandException($"{path} holds no rows; nothing was restored.");
        if (rows.Select(r => r.OrgId).Distinct(StringComparer.Ordinal).Count() != 1 || !Guid.TryParse(rows[0].OrgId, out var org))
            throw new RetentionCommandException($"{path} does not hold the rows of one organisation; nothing was restored.");
        foreach (var row in rows)
        {
            if (!Tables.Contains(row.Table))
                throw new RetentionCommandException($"{path} holds a row of an unknown table; nothing was restored.");
            try
            {
                using var json = JsonDocument.Parse(row.Row);
                var root = json.RootElement;
                if (root.ValueKind != JsonValueKind.Object || root.GetProperty("id").GetInt64() != row.Id
                    || root.GetProperty("org_id").GetGuid() != org)
                    throw new RetentionCommandException(
                        $"{path}: the {row.Table} row {row.Id} does not match its columns; nothing was restored.");
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
            {
                throw new RetentionCommandException($"{path}: the {row.Table} row {row.Id} is not a row's JSON; nothing was restored.", e);
            }
        }
        return rows;
    }

    /// <summary>The table's columns a row can be inserted with: every one but the generated ones.</summary>
    private static async Task<string> ColumnsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string table,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute " +
            "WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''", connection, transaction);
        command.Parameters.AddWithValue("public." + table);
        return (string)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<int> ExecAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql,
        CancellationToken cancellationToken, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in values)
            command.Parameters.AddWithValue(value);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
