using Npgsql;
using WorkflowGraph.Exports;

namespace WorkflowGraph.Retention;

/// <summary>One archive file written and renamed into place: its organisation, month and number of rows.</summary>
public sealed record WrittenArchive(string Path, Guid Org, string Month, long Rows);

/// <summary>
/// The files of one archive run: rows arrive ordered by organisation and month, each pair becomes one file named by
/// <c>name(org, month)</c> in the organisation's folder (written under a temporary name, synced to disk and renamed when
/// its last row is in; with <c>replace</c> a file of that name is replaced whole). <see cref="DiscardAsync"/> deletes
/// everything written.
/// </summary>
internal sealed class ArchiveWriter(string root, Func<Guid, string, string> name, bool replace = false)
{
    private string? _key;
    private string? _partial;
    private string? _final;
    private Guid _org;
    private string _month = "";
    private long _count;
    private FileStream? _file;
    private ParquetRowGroups<ArchivedRow>? _groups;

    /// <summary>The paths of the files complete so far.</summary>
    public List<string> Completed { get; } = [];

    /// <summary>The files complete so far, with what each holds.</summary>
    public List<WrittenArchive> Written { get; } = [];

    /// <summary>
    /// Writes the reader's current row, whose columns are the archive statements' (org_id, month, table, id, trace_id,
    /// created_at, row as JSON); returns the row written.
    /// </summary>
    public async Task<ArchivedRow> WriteAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var org = reader.GetGuid(0);
        var row = new ArchivedRow
        {
            OrgId = org.ToString("D"),
            Table = reader.GetString(2),
            Id = reader.GetInt64(3),
            TraceId = reader.GetInt64(4),
            CreatedAt = reader.GetDateTime(5),
            Row = reader.GetString(6),
        };
        await WriteAsync(org, reader.GetString(1), row, cancellationToken);
        return row;
    }

    public async Task WriteAsync(Guid org, string month, ArchivedRow row, CancellationToken cancellationToken)
    {
        var key = $"{org:D}/{month}";
        if (key != _key)
        {
            await CloseAsync(cancellationToken);
            var folder = Path.Combine(root, org.ToString("D"));
            Directory.CreateDirectory(folder);
            var file = name(org, month);
            _final = Path.Combine(folder, file);
            _partial = Path.Combine(folder, $".{file}.partial");
            _file = new FileStream(_partial, replace ? FileMode.Create : FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None,
                64 * 1024, useAsync: true);
            _groups = ArchiveFile.Writer(_file);
            _key = key;
            _org = org;
            _month = month;
            _count = 0;
        }
        await _groups!.WriteAsync(row, cancellationToken);
        _count++;
    }

    public Task CompleteAsync(CancellationToken cancellationToken) => CloseAsync(cancellationToken);

    private async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (_file is null)
            return;
        await _groups!.CompleteAsync(cancellationToken);
        await _file.FlushAsync(cancellationToken);
        _file.Flush(flushToDisk: true);
        await _file.DisposeAsync();
        _file = null;
        _groups = null;
        File.Move(_partial!, _final!, overwrite: replace);
        Completed.Add(_final!);
        Written.Add(new WrittenArchive(_final!, _org, _month, _count));
        _partial = null;
        _key = null;
    }

    public async Task DiscardAsync()
    {
        if (_file is not null)
            await _file.DisposeAsync();
        _file = null;
        foreach (var path in Completed.Append(_partial))
            if (path is not null && File.Exists(path))
                File.Delete(path);
        Completed.Clear();
        Written.Clear();
    }
}
