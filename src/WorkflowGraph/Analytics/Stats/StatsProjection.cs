using System.Text;
using System.Text.Json;
using WorkflowGraph.Querying.Selection;

namespace WorkflowGraph.Analytics.Stats;

/// <summary>
/// A group as the client selected it: the statement returns every field of a group once, and each place the group is
/// selected (nodes, edges.node, with aliases and fragments already expanded) takes its fields under its response keys.
/// </summary>
public static class StatsProjection
{
    public static string Write(JsonElement group, IReadOnlyList<FieldSelection> fields, StatsSubject subject) =>
        Write(group, fields, subject.GroupType, field => field switch
        {
            "key" => subject.KeyType,
            "durationMs" => StatsSubject.DurationsType,
            _ => subject.StatusCountType,
        });

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
