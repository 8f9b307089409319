using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using WorkflowGraph.Querying.Model;

namespace WorkflowGraph.Bench.Scenarios;

/// <summary>
/// The direct baseline of the dashboard and the trace detail: what a careful engineer would write by hand for the same
/// answer, not the service's own statement replayed — plain columns (no JSON built in PostgreSQL, no per-row function
/// calls), all of a page in one round trip under the same tenant transaction (role, organisation, RLS), read with
/// Npgsql's typed getters and written as the same JSON document with <see cref="Utf8JsonWriter"/> (global ids and
/// upper-case enums included). The bench's viewer has no <c>phi:read</c>, so the trace detail's identifier columns,
/// events' data and context values pass through the database's masking functions, as the service's do: an event's
/// data keys that are not state keys are redacted even where the organisation classifies nothing. The scenarios compare
/// the two pages value by value (<see cref="Difference(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>) before measuring.
/// </summary>
public sealed class DirectPages
{
    private const string DashboardSql =
        "SELECT t.id, t.status, t.channel, t.start_time, s.id, s.status, s.duration_ms " +
        "FROM (SELECT id, status, channel, start_time FROM workflow_trace WHERE channel = $1 AND status = $2 " +
        "ORDER BY start_time DESC, id DESC LIMIT 50) t " +
        "LEFT JOIN LATERAL (SELECT id, status, duration_ms, step_number FROM workflow_steps WHERE trace_id = t.id " +
        "ORDER BY step_number, id LIMIT 100) s ON true " +
        "ORDER BY t.start_time DESC, t.id DESC, s.step_number, s.id";

    // the bench's viewer has no phi:read: each statement masks as the database's contract requires (db/migrations/036,
    // 040), with the organisation's classification read once per statement (init plans), as any reader without it must
    private const string ExternalIdClassified = "(SELECT phi_column_classified('external_id'))";
    private const string ErrorClassified = "(SELECT phi_column_classified('error_message'))";

    private const string TraceSql =
        "SELECT t.id, t.status, t.channel, phi_mask_text(t.external_id, " + ExternalIdClassified + "), t.start_time, t.end_time, " +
        "t.duration_ms, phi_mask_text(t.error_message, " + ErrorClassified + "), w.name " +
        "FROM workflow_trace t JOIN workflows w ON w.id = t.workflow_id WHERE t.id = $1";

    private const string StepsSql =
        "SELECT id, step_number, status, retry_count, duration_ms, phi_mask_text(error_message, " + ErrorClassified + "), " +
        "start_time, end_time FROM workflow_steps WHERE trace_id = $1 ORDER BY step_number, id LIMIT 100";

    private const string EventsSql =
        "SELECT id, step_id, event_type, phi_mask_event(event_data, " + ExternalIdClassified + ", " + ErrorClassified + "), " +
        "created_at FROM workflow_events WHERE trace_id = $1 ORDER BY id LIMIT 100";

    private const string ContextSql =
        "SELECT key, phi_mask_context(key, value, (SELECT phi_classified_keys('context_key'))) FROM workflow_trace_context " +
        "WHERE trace_id = $1 ORDER BY key LIMIT 100";

    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private readonly Utf8JsonWriter _json;

    public DirectPages() => _json = new Utf8JsonWriter(_buffer);

    /// <summary>The size of the last page's JSON.</summary>
    public int LastBytes { get; private set; }

    /// <summary>The last page's JSON.</summary>
    public ReadOnlyMemory<byte> LastPage => _buffer.WrittenMemory;

    /// <summary>
    /// The first difference between two pages, value by value (null when they answer the same): the check that the
    /// baseline answers what the service answers, not only the same rows. Timestamps compare as instants (the two
    /// writers format fractions of a second differently), numbers as numbers, members in any order.
    /// </summary>
    public static string? Difference(ReadOnlySpan<byte> served, ReadOnlySpan<byte> direct)
    {
        using var left = JsonDocument.Parse(served.ToArray());
        using var right = JsonDocument.Parse(direct.ToArray());
        return Difference("$", left.RootElement, right.RootElement);
    }

    private static string? Difference(string path, JsonElement served, JsonElement direct)
    {
        if (served.ValueKind != direct.ValueKind)
            return $"{path}: {served.ValueKind} served, {direct.ValueKind} direct";
        switch (served.ValueKind)
        {
            case JsonValueKind.Object:
                var names = served.EnumerateObject().Select(p => p.Name).ToHashSet();
                if (!names.SetEquals(direct.EnumerateObject().Select(p => p.Name)))
                    return $"{path}: members {string.Join(",", names)} served, " +
                        $"{string.Join(",", direct.EnumerateObject().Select(p => p.Name))} direct";
                foreach (var name in names)
                    if (Difference($"{path}.{name}", served.GetProperty(name), direct.GetProperty(name)) is { } inner)
                        return inner;
                return null;
            case JsonValueKind.Array:
                if (served.GetArrayLength() != direct.GetArrayLength())
                    return $"{path}: {served.GetArrayLength()} items served, {direct.GetArrayLength()} direct";
                var i = 0;
                foreach (var (a, b) in served.EnumerateArray().Zip(direct.EnumerateArray()))
                    if (Difference($"{path}[{i++}]", a, b) is { } inner)
                        return inner;
                return null;
            case JsonValueKind.String:
                var (x, y) = (served.GetString()!, direct.GetString()!);
                var same = x == y || (DateTimeOffset.TryParse(x, CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)
                    && DateTimeOffset.TryParse(y, CultureInfo.InvariantCulture, DateTimeStyles.None, out var u) && t == u);
                return same ? null : $"{path}: \"{x}\" served, \"{y}\" direct";
            case JsonValueKind.Number:
                return served.GetDecimal() == direct.GetDecimal() ? null : $"{path}: {served} served, {direct} direct";
            default:
                return null;
        }
    }

    private void Begin()
    {
        _buffer.ResetWrittenCount();
        _json.Reset(_buffer);
    }

    private int End()
    {
        _json.Flush();
        LastBytes = _buffer.WrittenCount;
        return LastBytes;
    }

    private static string Id(string type, long id) => GlobalId.Encode(type, id.ToString(CultureInfo.InvariantCulture));

    /// <summary>The dashboard's 50 newest completed web runs with their steps; returns the number of runs.</summary>
    public Task<int> DashboardAsync(DirectDatabase database, CancellationToken ct) => database.ReadPageAsync(
        [Command(DashboardSql, ("web", NpgsqlDbType.Text), ("completed", NpgsqlDbType.Text))],
        async (reader, token) =>
        {
            Begin();
            _json.WriteStartObject();
            _json.WriteStartObject("data");
            _json.WriteStartObject("traces");
            _json.WriteStartArray("nodes");
            var runs = 0;
            long current = -1;
            while (await reader.ReadAsync(token))
            {
                var run = reader.GetInt64(0);
                if (run != current)
                {
                    if (current != -1)
                    {
                        _json.WriteEndArray();
                        _json.WriteEndObject();
                    }
                    current = run;
                    runs++;
                    _json.WriteStartObject();
                    _json.WriteString("id", Id("WorkflowTrace", run));
                    _json.WriteString("status", reader.GetString(1).ToUpperInvariant());
                    _json.WriteString("channel", reader.GetString(2).ToUpperInvariant());
                    _json.WriteString("startTime", reader.GetFieldValue<DateTime>(3));
                    _json.WriteStartArray("steps");
                }
                if (reader.IsDBNull(4))
                    continue;
                _json.WriteStartObject();
                _json.WriteString("id", Id("WorkflowStep", reader.GetInt64(4)));
                _json.WriteString("status", reader.GetString(5).ToUpperInvariant());
                WriteNumber("durationMs", reader, 6);
                _json.WriteEndObject();
            }
            if (current != -1)
            {
                _json.WriteEndArray();
                _json.WriteEndObject();
            }
            _json.WriteEndArray();
            _json.WriteEndObject();
            _json.WriteEndObject();
            _json.WriteEndObject();
            End();
            return runs;
        }, ct);

    /// <summary>One run's page: the run and its workflow's name, steps, events and context; returns 1 when the run exists.</summary>
    public Task<int> TraceAsync(DirectDatabase database, long id, CancellationToken ct) => database.ReadPageAsync(
        [
            Command(TraceSql, (id, NpgsqlDbType.Bigint)), Command(StepsSql, (id, NpgsqlDbType.Bigint)),
            Command(EventsSql, (id, NpgsqlDbType.Bigint)), Command(ContextSql, (id, NpgsqlDbType.Bigint)),
        ],
        async (reader, token) =>
        {
            Begin();
            _json.WriteStartObject();
            _json.WriteStartObject("data");
            if (!await reader.ReadAsync(token))
            {
                _json.WriteNull("trace");
                return 0;
            }
            _json.WriteStartObject("trace");
            _json.WriteString("id", Id("WorkflowTrace", reader.GetInt64(0)));
            _json.WriteString("status", reader.GetString(1).ToUpperInvariant());
            _json.WriteString("channel", reader.GetString(2).ToUpperInvariant());
            WriteString("externalId", reader, 3);
            WriteTime("startTime", reader, 4);
            WriteTime("endTime", reader, 5);
            WriteNumber("durationMs", reader, 6);
            WriteString("errorMessage", reader, 7);
            _json.WriteStartObject("workflow");
            _json.WriteString("name", reader.GetString(8));
            _json.WriteEndObject();

            await WriteRowsAsync("steps", reader, () =>
            {
                _json.WriteString("id", Id("WorkflowStep", reader.GetInt64(0)));
                _json.WriteNumber("stepNumber", reader.GetInt32(1));
                _json.WriteString("status", reader.GetString(2).ToUpperInvariant());
                _json.WriteNumber("retryCount", reader.GetInt32(3));
                WriteNumber("durationMs", reader, 4);
                WriteString("errorMessage", reader, 5);
                WriteTime("startTime", reader, 6);
                WriteTime("endTime", reader, 7);
            }, token);
            await WriteRowsAsync("events", reader, () =>
            {
                _json.WriteString("id", Id("WorkflowEvent", reader.GetInt64(0)));
                if (reader.IsDBNull(1))
                    _json.WriteNull("stepId");
                else
                    _json.WriteString("stepId", Id("WorkflowStep", reader.GetInt64(1)));
                _json.WriteString("eventType", reader.GetString(2));
                WriteJson("eventData", reader, 3);
                _json.WriteString("createdAt", reader.GetFieldValue<DateTime>(4));
            }, token);
            await WriteRowsAsync("context", reader, () =>
            {
                _json.WriteString("key", reader.GetString(0));
                WriteJson("value", reader, 1);
            }, token);
            _json.WriteEndObject();
            _json.WriteEndObject();
            _json.WriteEndObject();
            End();
            return 1;
        }, ct);

    /// <summary>The reader's next result as an array of objects named <paramref name="name"/>, one per row.</summary>
    private async Task WriteRowsAsync(string name, NpgsqlDataReader reader, Action writeRow, CancellationToken ct)
    {
        await reader.NextResultAsync(ct);
        _json.WriteStartArray(name);
        while (await reader.ReadAsync(ct))
        {
            _json.WriteStartObject();
            writeRow();
            _json.WriteEndObject();
        }
        _json.WriteEndArray();
    }

    private static NpgsqlBatchCommand Command(string sql, params (object Value, NpgsqlDbType Type)[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var (value, type) in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = value, NpgsqlDbType = type });
        return command;
    }

    private void WriteString(string name, NpgsqlDataReader reader, int column)
    {
        if (reader.IsDBNull(column))
            _json.WriteNull(name);
        else
            _json.WriteString(name, reader.GetString(column));
    }

    private void WriteTime(string name, NpgsqlDataReader reader, int column)
    {
        if (reader.IsDBNull(column))
            _json.WriteNull(name);
        else
            _json.WriteString(name, reader.GetFieldValue<DateTime>(column));
    }

    /// <summary>A bigint column (durations).</summary>
    private void WriteNumber(string name, NpgsqlDataReader reader, int column)
    {
        if (reader.IsDBNull(column))
            _json.WriteNull(name);
        else
            _json.WriteNumber(name, reader.GetInt64(column));
    }

    /// <summary>A jsonb column, written as it came (PostgreSQL's text of it is valid JSON).</summary>
    private void WriteJson(string name, NpgsqlDataReader reader, int column)
    {
        _json.WritePropertyName(name);
        if (reader.IsDBNull(column))
            _json.WriteNullValue();
        else
            _json.WriteRawValue(reader.GetString(column), skipInputValidation: true);
    }
}
