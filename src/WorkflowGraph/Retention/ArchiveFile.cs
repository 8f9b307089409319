using System.Text.Json;
using Parquet.Serialization;
using WorkflowGraph.Exports;

namespace WorkflowGraph.Retention;

/// <summary>A retention archive file: Parquet, row groups of <see cref="RowGroupRows"/> rows of <see cref="ArchivedRow"/>.</summary>
public static class ArchiveFile
{
    public const int RowGroupRows = 1000;

    /// <summary>Writes an archive file into <paramref name="file"/> (the service's one Parquet writer, shared with exports).</summary>
    public static ParquetRowGroups<ArchivedRow> Writer(Stream file) => new(file, RowGroupRows);

    /// <summary>Every row of an archive file, in the order written.</summary>
    public static async Task<IList<ArchivedRow>> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        await using var file = File.OpenRead(path);
        return (await ParquetSerializer.DeserializeAsync<ArchivedRow>(file, cancellationToken: cancellationToken)).Data;
    }

    /// <summary>
    /// <c>archive read &lt;file&gt;</c>: an archive's rows as JSON Lines, <c>{"table", "id", "traceId", "orgId", "createdAt",
    /// "row"}</c> with <c>row</c> the archived row's JSON.
    /// </summary>
    public static async Task<int> ReadCommandAsync(string path, TextWriter output)
    {
        if (!File.Exists(path))
        {
            await Console.Error.WriteLineAsync($"archive read: no such file: {path}");
            return 2;
        }
        foreach (var row in await ReadAsync(path))
        {
            using var buffer = new MemoryStream();
            await using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("table", row.Table);
                json.WriteNumber("id", row.Id);
                json.WriteNumber("traceId", row.TraceId);
                json.WriteString("orgId", row.OrgId);
                json.WriteString("createdAt", row.CreatedAt);
                json.WritePropertyName("row");
                json.WriteRawValue(row.Row);
                json.WriteEndObject();
            }
            await output.WriteLineAsync(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        }
        return 0;
    }
}
