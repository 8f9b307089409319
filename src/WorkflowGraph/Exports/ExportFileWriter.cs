using System.Text.Json;

namespace WorkflowGraph.Exports;

/// <summary>Writes an export's runs to its file as they are read: JSON Lines, or Parquet in row groups.</summary>
public abstract class ExportFileWriter : IAsyncDisposable
{
    protected ExportFileWriter(Stream stream) => Stream = stream;

    protected Stream Stream { get; }

    public static ExportFileWriter Create(string format, string path)
    {
        var stream = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024, useAsync: true);
        return format == "parquet" ? new ParquetRuns(stream) : new JsonLines(stream);
    }

    public abstract Task WriteAsync(ExportedRun run, CancellationToken cancellationToken);

    /// <summary>Writes what is buffered and flushes the file to disk; its length after.</summary>
    public virtual async Task<long> CompleteAsync(CancellationToken cancellationToken)
    {
        await Stream.FlushAsync(cancellationToken);
        return Stream.Length;
    }

    public async ValueTask DisposeAsync()
    {
        await Stream.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    private sealed class JsonLines(Stream stream) : ExportFileWriter(stream)
    {
        private static readonly byte[] NewLine = "\n"u8.ToArray();

        public override async Task WriteAsync(ExportedRun run, CancellationToken cancellationToken)
        {
            await using (var json = new Utf8JsonWriter(Stream))
            {
                json.WriteStartObject();
                json.WriteNumber("id", run.Id);
                json.WriteString("workflowId", run.WorkflowId);
                json.WriteString("channel", run.Channel);
                json.WriteString("status", run.Status);
                json.WriteString("externalId", run.ExternalId);
                json.WritePropertyName("configSnapshot");
                json.WriteRawValue(run.ConfigSnapshot ?? "null", skipInputValidation: true);
                json.WriteString("startTime", run.StartTime);
                if (run.EndTime is { } end)
                    json.WriteString("endTime", end);
                else
                    json.WriteNull("endTime");
                if (run.DurationMs is { } duration)
                    json.WriteNumber("durationMs", duration);
                else
                    json.WriteNull("durationMs");
                json.WriteString("errorMessage", run.ErrorMessage);
                json.WriteString("cancelReason", run.CancelReason);
                json.WriteNumber("attempt", run.Attempt);
                json.WritePropertyName("steps");
                json.WriteRawValue(run.Steps, skipInputValidation: true);
                json.WritePropertyName("context");
                json.WriteRawValue(run.Context, skipInputValidation: true);
                json.WritePropertyName("events");
                json.WriteRawValue(run.Events, skipInputValidation: true);
                json.WriteEndObject();
            }
            await Stream.WriteAsync(NewLine, cancellationToken);
        }
    }

    /// <summary>Parquet: the runs in row groups of <see cref="RowGroupRuns"/> (each appended to the file as it fills).</summary>
    private sealed class ParquetRuns(Stream stream) : ExportFileWriter(stream)
    {
        private const int RowGroupRuns = 500;
        private readonly ParquetRowGroups<ExportedRun> _groups = new(stream, RowGroupRuns);

        public override Task WriteAsync(ExportedRun run, CancellationToken cancellationToken) => _groups.WriteAsync(run, cancellationToken);

        public override async Task<long> CompleteAsync(CancellationToken cancellationToken)
        {
            await _groups.CompleteAsync(cancellationToken);
            return await base.CompleteAsync(cancellationToken);
        }
    }
}
