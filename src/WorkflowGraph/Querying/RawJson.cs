using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace WorkflowGraph.Querying;

/// <summary>
/// JSON exactly as PostgreSQL (or the service, for statistics) built it for the response: text, or its UTF-8 bytes. It is
/// written into the response without being parsed: PostgreSQL's json output is valid JSON, and re-reading 50 runs with
/// their steps per request is pure overhead.
/// </summary>
[JsonConverter(typeof(RawJsonConverter))]
public sealed class RawJson
{
    private string? _text;
    private readonly ReadOnlyMemory<byte> _utf8;

    public RawJson(string text, string? typeName = null)
    {
        _text = text;
        TypeName = typeName;
    }

    /// <summary>JSON as UTF-8 bytes, written into the response as they are (no text in between).</summary>
    public RawJson(ReadOnlyMemory<byte> utf8, string? typeName = null)
    {
        _utf8 = utf8;
        TypeName = typeName;
    }

    public string Text => _text ??= Encoding.UTF8.GetString(_utf8.Span);

    /// <summary>The object type of an object of an abstract field (<c>node</c>), for the engine's result checks.</summary>
    public string? TypeName { get; }

    /// <summary>How many bytes the JSON takes in the response.</summary>
    public int Utf8Length => _utf8.IsEmpty ? Encoding.UTF8.GetByteCount(_text!) : _utf8.Length;

    public void WriteTo(Utf8JsonWriter writer)
    {
        if (_utf8.IsEmpty)
            writer.WriteRawValue(_text!, skipInputValidation: true);
        else
            writer.WriteRawValue(_utf8.Span, skipInputValidation: true);
    }

    public override string ToString() => Text;
}

public sealed class RawJsonConverter : JsonConverter<RawJson>
{
    public override RawJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        new(JsonDocument.ParseValue(ref reader).RootElement.GetRawText());

    public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options) => value.WriteTo(writer);
}
