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
    private readonly List<ArchivedRow> _rows = [];
    private string? _key;
    private string? _partial;
    private string? _final;
    private Guid _org;
    private string _month = "";
    private long _count;
    private FileStream? _file;
    private bool _started;

    /// <summary>The paths of the files complete so far.</summary>
    public List<string> Completed { get; } = [];

    /// <summary>The files complete so far, with what each holds.</summary>
    public List<WrittenArchive> Written { get; } = [];

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
            _started = false;
            _key = key;
            _org = org;
            _month = month;
            _count = 0;
        }
        _rows.Add(row);
        _count++;
        if (_rows.Count >= ArchiveFile.RowGroupRows)
            await FlushAsync(cancellationToken);
    }

    public Task CompleteAsync(CancellationToken cancellationToken) => CloseAsync(cancellationToken);

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        await ArchiveFile.AppendAsync(_file!, _rows, _started, cancellationToken);
        _started = true;
        _rows.Clear();
    }

    private async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (_file is null)
            return;
        if (_rows.Count > 0)
            await FlushAsync(cancellationToken);
        await _file.FlushAsync(cancellationToken);
        _file.Flush(flushToDisk: true);
        await _file.DisposeAsync();
        _file = null;
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
