using Parquet;
using Parquet.Serialization;

namespace WorkflowGraph.Exports;

/// <summary>
/// The service's one Parquet writer (export files, retention archives): rows of <typeparamref name="T"/> buffered and
/// appended to <paramref name="stream"/> as a row group each time <paramref name="rowGroupRows"/> of them are in, so a file
/// of any length holds at most one group in memory.
/// </summary>
public sealed class ParquetRowGroups<T>(Stream stream, int rowGroupRows)
{
    private readonly List<T> _buffer = [];
    private bool _started;

    public async Task WriteAsync(T row, CancellationToken cancellationToken)
    {
        _buffer.Add(row);
        if (_buffer.Count >= rowGroupRows)
            await FlushAsync(cancellationToken);
    }

    /// <summary>Writes what is still buffered; a file without rows still gets its schema.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (_buffer.Count > 0 || !_started)
            await FlushAsync(cancellationToken);
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        await ParquetSerializer.SerializeAsync(_buffer, stream, new ParquetOptions { Append = _started },
            cancellationToken: cancellationToken);
        _started = true;
        _buffer.Clear();
    }
}
