using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Selection;

namespace WorkflowGraph.Analytics.Stats;

/// <summary>
/// A group, an advice or an anomaly as the client selected it: each place it is selected (nodes, edges.node, with aliases
/// and fragments already expanded) takes its fields under its response keys.
/// </summary>
public static class StatsProjection
{
    /// <summary>A group of a statistics page with the fields selected at one place, values as PostgreSQL's JSON writes them.</summary>
    public static string Write(StatsGroup group, IReadOnlyList<FieldSelection> fields, StatsPlan plan)
    {
        var subject = plan.Subject;
        // one buffer and writer per thread, reset for each group (Write does not await): a page writes a group at a time
        var buffer = _groupBuffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = _groupWriter ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        {
            writer.WriteStartObject();
            foreach (var field in fields)
            {
                writer.WritePropertyName(field.ResponseKey);
                switch (field.Name)
                {
                    case FieldSelection.Typename:
                        writer.WriteStringValue(subject.GroupType);
                        break;
                    case "key":
                        WriteKey(writer, group.Key, field.Children, subject.KeyType, plan.Dimensions);
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
                                writer.WritePropertyName(child.ResponseKey);
                                if (child.Name == FieldSelection.Typename)
                                    writer.WriteStringValue(subject.StatusCountType);
                                else if (child.Name == "status")
                                    writer.WriteStringValue(status.ToUpperInvariant());
                                else
                                    writer.WriteNumberValue(count);
                            }
                            writer.WriteEndObject();
                        }
                        writer.WriteEndArray();
                        break;
                    case "successRate":
                        Number(writer, group.SuccessRate);
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
        writer.Flush();
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _groupBuffer;

    [ThreadStatic]
    private static Utf8JsonWriter? _groupWriter;

    private static void WriteKey(Utf8JsonWriter writer, StatsKey key, IReadOnlyList<FieldSelection> fields, string typeName,
        IReadOnlyList<StatsDimension> dimensions)
    {
        writer.WriteStartObject();
        foreach (var field in fields)
        {
            writer.WritePropertyName(field.ResponseKey);
            var value = field.Name switch
            {
                FieldSelection.Typename => (string?)typeName,
                "workflowId" => key.Workflow is { } workflow && dimensions.Contains(StatsDimension.Workflow)
                    ? GlobalId.Encode("Workflow", workflow.ToString("D")) : null,
                "channel" => dimensions.Contains(StatsDimension.Channel) ? key.Channel?.ToUpperInvariant() : null,
                "status" => dimensions.Contains(StatsDimension.Status) ? key.Status?.ToUpperInvariant() : null,
                "nodeId" => key.Node is { } node && dimensions.Contains(StatsDimension.Node)
                    ? GlobalId.Encode("WorkflowNode", node.ToString(CultureInfo.InvariantCulture)) : null,
                "bucketStart" => key.Bucket is { } bucket && dimensions.Contains(StatsDimension.Bucket) ? Timestamp(bucket) : null,
                _ => throw new InvalidOperationException($"{typeName} has no field {field.Name}"),
            };
            if (value is null)
                writer.WriteNullValue();
            else
                writer.WriteStringValue(value);
        }
        writer.WriteEndObject();
    }

    private static void WriteDurations(Utf8JsonWriter writer, StatsGroup group, IReadOnlyList<FieldSelection> fields)
    {
        writer.WriteStartObject();
        foreach (var field in fields)
        {
            writer.WritePropertyName(field.ResponseKey);
            switch (field.Name)
            {
                case FieldSelection.Typename:
                    writer.WriteStringValue(StatsSubject.DurationsType);
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
                    Number(writer, group.Percentiles[0]);
                    break;
                case "p90":
                    Number(writer, group.Percentiles[1]);
                    break;
                case "p95":
                    Number(writer, group.Percentiles[2]);
                    break;
                case "p99":
                    Number(writer, group.Percentiles[3]);
                    break;
                default:
                    throw new InvalidOperationException($"{StatsSubject.DurationsType} has no field {field.Name}");
            }
        }
        writer.WriteEndObject();
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
