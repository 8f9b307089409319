using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using WorkflowGraph.Querying;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Selection;

namespace WorkflowGraph.Analytics.Stats;

/// <summary>
/// A group, an advice or an anomaly as the client selected it: each place it is selected (nodes, edges.node, with aliases
/// and fragments already expanded) takes its fields under its response keys.
/// </summary>
public static class StatsProjection
{
    /// <summary>
    /// The groups of a page, each with the fields selected at each place (<see cref="StatsPlan.Projections"/>), values as
    /// PostgreSQL's JSON writes them: one UTF-8 buffer for the page, each group's object a slice of it that goes into the
    /// response as it is.
    /// </summary>
    public static List<RawJson[]> WritePage(IReadOnlyList<StatsGroup> page, StatsPlan plan)
    {
        var buffer = new ArrayBufferWriter<byte>(Math.Max(256, page.Count * plan.Projections.Count * 256));
        var spans = new (int Start, int End)[page.Count * plan.Projections.Count];
        var texts = new PageTexts(plan);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            var at = 0;
            foreach (var group in page)
            {
                foreach (var (_, node) in plan.Projections)
                {
                    writer.Reset(buffer);
                    var start = buffer.WrittenCount;
                    WriteGroup(writer, group, node.Children, plan, texts);
                    writer.Flush();
                    spans[at++] = (start, buffer.WrittenCount);
                }
            }
        }
        var written = buffer.WrittenMemory;
        var rows = new List<RawJson[]>(page.Count);
        for (var g = 0; g < page.Count; g++)
        {
            var row = new RawJson[plan.Projections.Count];
            for (var p = 0; p < row.Length; p++)
            {
                var (start, end) = spans[g * row.Length + p];
                row[p] = new RawJson(written[start..end]);
            }
            rows.Add(row);
        }
        return rows;
    }

    private static void WriteGroup(Utf8JsonWriter writer, StatsGroup group, IReadOnlyList<FieldSelection> fields, StatsPlan plan,
        PageTexts texts)
    {
        var subject = plan.Subject;
        writer.WriteStartObject();
        foreach (var field in fields)
        {
            writer.WritePropertyName(field.EncodedKey);
            switch (field.Name)
            {
                case FieldSelection.Typename:
                    writer.WriteStringValue(texts.GroupType);
                    break;
                case "key":
                    WriteKey(writer, group.Key, field.Children, texts);
                    break;
                case "count":
                    writer.WriteNumberValue(group.Count);
                    break;
                case "countByStatus":
                    writer.WriteStartArray();
                    foreach (var (status, count) in group.StatusCounts)
                    {
                        writer.WriteStartObject();
                        foreach (var child in field.Children)
                        {
                            writer.WritePropertyName(child.EncodedKey);
                            if (child.Name == FieldSelection.Typename)
                                writer.WriteStringValue(texts.StatusCountType);
                            else if (child.Name == "status")
                                writer.WriteStringValue(UpperLabel(status));
                            else
                                writer.WriteNumberValue(count);
                        }
                        writer.WriteEndObject();
                    }
                    writer.WriteEndArray();
                    break;
                case "successRate":
                    WriteSuccessRate(writer, group.SuccessHundredths);
                    break;
                case "durationMs":
                    WriteDurations(writer, group, field.Children);
                    break;
                default:
                    throw new InvalidOperationException($"{subject.GroupType} has no field {field.Name}");
            }
        }
        writer.WriteEndObject();
    }

    /// <summary>The texts a page writes many times, encoded once: type names, and each bucket's start.</summary>
    private sealed class PageTexts(StatsPlan plan)
    {
        public JsonEncodedText GroupType { get; } = JsonEncodedText.Encode(plan.Subject.GroupType);
        public JsonEncodedText KeyType { get; } = JsonEncodedText.Encode(plan.Subject.KeyType);
        public JsonEncodedText StatusCountType { get; } = JsonEncodedText.Encode(plan.Subject.StatusCountType);
        public IReadOnlyList<StatsDimension> Dimensions => plan.Dimensions;
        private readonly Dictionary<DateTime, JsonEncodedText> _buckets = [];

        public JsonEncodedText Bucket(DateTime start)
        {
            if (!_buckets.TryGetValue(start, out var text))
                _buckets[start] = text = JsonEncodedText.Encode(Timestamp(start));
            return text;
        }
    }

    // channel and status labels upper-cased and encoded once (enum values: a handful; bounded all the same)
    private static readonly ConcurrentDictionary<string, JsonEncodedText> UpperLabels = new(StringComparer.Ordinal);

    private static JsonEncodedText UpperLabel(string label)
    {
        if (UpperLabels.TryGetValue(label, out var text))
            return text;
        text = JsonEncodedText.Encode(label.ToUpperInvariant());
        if (UpperLabels.Count < 256)
            UpperLabels.TryAdd(label, text);
        return text;
    }

    // success rates are hundredths of a percent: each one's JSON number made once, as the writer writes its double
    private static readonly byte[]?[] SuccessRateTexts = new byte[]?[10_001];

    /// <summary>A success rate (<see cref="StatsGroup.SuccessHundredths"/>) as the writer writes its double.</summary>
    public static void WriteSuccessRate(Utf8JsonWriter writer, long? hundredths)
    {
        if (hundredths is { } h and >= 0 and <= 10_000)
            writer.WriteRawValue(SuccessRateTexts[h] ??= NumberText(h / 100.0), skipInputValidation: true);
        else
            Number(writer, hundredths / 100.0);
    }

    private static byte[] NumberText(double value)
    {
        var buffer = new ArrayBufferWriter<byte>(32);
        using (var writer = new Utf8JsonWriter(buffer))
            writer.WriteNumberValue(value);
        return buffer.WrittenSpan.ToArray();
    }

    // the percentiles' values that come from a bucket (StatsGroups.Percentile), each one's JSON made once
    private static readonly Dictionary<double, byte[]> BucketValueTexts =
        StatsGroups.RoundedBucketValues.Distinct().ToDictionary(value => value, NumberText);

    private static void WriteKey(Utf8JsonWriter writer, StatsKey key, IReadOnlyList<FieldSelection> fields, PageTexts texts)
    {
        var dimensions = texts.Dimensions;
        writer.WriteStartObject();
        foreach (var field in fields)
        {
            writer.WritePropertyName(field.EncodedKey);
            JsonEncodedText? value = field.Name switch
            {
                FieldSelection.Typename => texts.KeyType,
                "workflowId" => key.Workflow is { } workflow && dimensions.Contains(StatsDimension.Workflow)
                    ? JsonEncodedText.Encode(GlobalId.Encode("Workflow", workflow.ToString("D"))) : null,
                "channel" => key.Channel is { } channel && dimensions.Contains(StatsDimension.Channel) ? UpperLabel(channel) : null,
                "status" => key.Status is { } status && dimensions.Contains(StatsDimension.Status) ? UpperLabel(status) : null,
                "nodeId" => key.Node is { } node && dimensions.Contains(StatsDimension.Node)
                    ? JsonEncodedText.Encode(GlobalId.Encode("WorkflowNode", node.ToString(CultureInfo.InvariantCulture))) : null,
                "bucketStart" => key.Bucket is { } bucket && dimensions.Contains(StatsDimension.Bucket) ? texts.Bucket(bucket) : null,
                _ => throw new InvalidOperationException($"{texts.KeyType} has no field {field.Name}"),
            };
            if (value is { } text)
                writer.WriteStringValue(text);
            else
                writer.WriteNullValue();
        }
        writer.WriteEndObject();
    }

    private static void WriteDurations(Utf8JsonWriter writer, StatsGroup group, IReadOnlyList<FieldSelection> fields)
    {
        writer.WriteStartObject();
        foreach (var field in fields)
        {
            writer.WritePropertyName(field.EncodedKey);
            switch (field.Name)
            {
                case FieldSelection.Typename:
                    writer.WriteStringValue(DurationsType);
                    break;
                case "avg":
                    Number(writer, group.Avg);
                    break;
                case "min":
                    Number(writer, group.Min);
                    break;
                case "max":
                    Number(writer, group.Max);
                    break;
                case "p50":
                    WritePercentile(writer, group.Percentiles[0]);
                    break;
                case "p90":
                    WritePercentile(writer, group.Percentiles[1]);
                    break;
                case "p95":
                    WritePercentile(writer, group.Percentiles[2]);
                    break;
                case "p99":
                    WritePercentile(writer, group.Percentiles[3]);
                    break;
                default:
                    throw new InvalidOperationException($"{StatsSubject.DurationsType} has no field {field.Name}");
            }
        }
        writer.WriteEndObject();
    }

    private static readonly JsonEncodedText DurationsType = JsonEncodedText.Encode(StatsSubject.DurationsType);

    /// <summary>
    /// A percentile as the writer writes its double: a bucket's value from its text made once, a whole number (held to an
    /// exact min or max) as the integer it is (a double's shortest text below 10^15 has no fraction or exponent).
    /// </summary>
    public static void WritePercentile(Utf8JsonWriter writer, double? value)
    {
        if (value is { } v && !double.IsNegative(v) && BucketValueTexts.TryGetValue(v, out var text))
            writer.WriteRawValue(text, skipInputValidation: true);
        else if (value is { } whole && whole > 0 && whole < 1e15 && whole == Math.Floor(whole))
            writer.WriteNumberValue((long)whole);
        else
            Number(writer, value);
    }

    private static void Number(Utf8JsonWriter writer, double? value)
    {
        if (value is { } v)
            writer.WriteNumberValue(v);
        else
            writer.WriteNullValue();
    }

    private static void Number(Utf8JsonWriter writer, long? value)
    {
        if (value is { } v)
            writer.WriteNumberValue(v);
        else
            writer.WriteNullValue();
    }

    /// <summary>A UTC time as PostgreSQL's JSON writes a timestamptz in a UTC session: fractions only when there are any.</summary>
    public static string Timestamp(DateTime utc) =>
        utc.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture) + "+00:00";

    /// <summary>
    /// <paramref name="value"/> (an object or an array of objects of <paramref name="typeName"/>) with the selected
    /// fields only; <paramref name="childType"/> names the type of an object field for <c>__typename</c>.
    /// </summary>
    public static string Write(JsonElement value, IReadOnlyList<FieldSelection> fields, string typeName, Func<string, string> childType)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            if (value.ValueKind == JsonValueKind.Array)
            {
                writer.WriteStartArray();
                foreach (var item in value.EnumerateArray())
                    WriteObject(writer, item, fields, typeName, childType);
                writer.WriteEndArray();
            }
            else
            {
                WriteObject(writer, value, fields, typeName, childType);
            }
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteObject(Utf8JsonWriter writer, JsonElement value, IReadOnlyList<FieldSelection> fields, string typeName,
        Func<string, string> childTypes)
    {
        writer.WriteStartObject();
        foreach (var field in fields)
        {
            writer.WritePropertyName(field.ResponseKey);
            if (field.Name == FieldSelection.Typename)
            {
                writer.WriteStringValue(typeName);
                continue;
            }
            var child = value.GetProperty(field.Name);
            switch (child.ValueKind)
            {
                case JsonValueKind.Object:
                    WriteObject(writer, child, field.Children, childTypes(field.Name), childTypes);
                    break;
                case JsonValueKind.Array:
                    writer.WriteStartArray();
                    foreach (var item in child.EnumerateArray())
                        WriteObject(writer, item, field.Children, childTypes(field.Name), childTypes);
                    writer.WriteEndArray();
                    break;
                default:
                    child.WriteTo(writer);
                    break;
            }
        }
        writer.WriteEndObject();
    }
}
