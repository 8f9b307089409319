namespace WorkflowGraph.Retention;

/// <summary>
/// The files of one archive run: rows arrive ordered by organisation and month, each pair becomes one file (written
/// under a temporary name, renamed when its last row is in). <see cref="DiscardAsync"/> deletes everything written.
/// </summary>
internal sealed class ArchiveWriter(string root, string stamp)
{
    private readonly List<ArchivedRow> _rows = [];
    private string? _key;
    private string? _partial;
    private string? _final;
    private FileStream? _file;
    private bool _started;

    public List<string> Completed { get; } = [];

    public async Task WriteAsync(Guid org, string month, ArchivedRow row, CancellationToken cancellationToken)
    {
        var key = $"{org:D}/{month}";
        if (key != _key)
        {
            await CloseAsync(cancellationToken);
            var folder = Path.Combine(root, org.ToString("D"));
            Directory.CreateDirectory(folder);
            var name = $"runs-{month}-{stamp}-{Guid.NewGuid().ToString("N")[..8]}.parquet";
            _final = Path.Combine(folder, name);
            _partial = Path.Combine(folder, $".{name}.partial");
            _file = new FileStream(_partial, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024, useAsync: true);
            _started = false;
            _key = key;
        }
        _rows.Add(row);
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
        File.Move(_partial!, _final!);
        Completed.Add(_final!);
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
    }
}
