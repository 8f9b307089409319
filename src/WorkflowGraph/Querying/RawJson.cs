using System.Text.Json;
using System.Text.Json.Serialization;

namespace WorkflowGraph.Querying;

/// <summary>
/// JSON text exactly as PostgreSQL built it for the response. It is written into the response without being
/// parsed: PostgreSQL's json output is valid JSON, and re-reading 50 runs with their steps per request is
/// pure overhead.
/// </summary>
[JsonConverter(typeof(RawJsonConverter))]
public sealed class RawJson(string text, string? typeName = null)
{
    public string Text { get; } = text;

    /// <summary>The object type of an object of an abstract field (<c>node</c>), for the engine's result checks.</summary>
    public string? TypeName { get; } = typeName;

    public override string ToString() => Text;
}

public sealed class RawJsonConverter : JsonConverter<RawJson>
{
    public override RawJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        new(JsonDocument.ParseValue(ref reader).RootElement.GetRawText());

    public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.Text, skipInputValidation: true);
}
