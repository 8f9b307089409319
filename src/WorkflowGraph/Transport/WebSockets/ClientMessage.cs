using System.Text.Json;
using System.Text.Unicode;
using static WorkflowGraph.Transport.WebSockets.GraphQLWsProtocol;

namespace WorkflowGraph.Transport.WebSockets;

/// <summary>
/// One message from a client, checked against the protocol's shapes before anything acts on it: an object with a
/// string <c>type</c>; <c>id</c> a non-empty string on <c>subscribe</c> and <c>complete</c>; <c>payload</c> an object
/// (or null) where one is allowed, and on <c>subscribe</c> an object with a string <c>query</c>.
/// </summary>
/// <param name="Payload">The payload, or <see cref="JsonValueKind.Undefined"/> when there is none (null counts as none).</param>
public sealed record ClientMessage(string Type, string? Id, JsonElement Payload)
{
    public bool HasPayload => Payload.ValueKind == JsonValueKind.Object;

    /// <exception cref="ProtocolViolationException">The text is not JSON or not a message of the protocol.</exception>
    public static ClientMessage Parse(ReadOnlyMemory<byte> utf8)
    {
        if (!Utf8.IsValid(utf8.Span))
            throw new ProtocolViolationException("Invalid message received: not UTF-8");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8);
        }
        catch (JsonException)
        {
            throw new ProtocolViolationException("Invalid message received: not JSON");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new ProtocolViolationException("Invalid message received: not a JSON object");
            if (!root.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
                throw new ProtocolViolationException("Invalid message received: no string 'type'");
            var type = typeElement.GetString()!;
            var payload = root.TryGetProperty("payload", out var payloadElement) && payloadElement.ValueKind != JsonValueKind.Null
                ? payloadElement.Clone()
                : default;
            switch (type)
            {
                case ConnectionInit or Ping or Pong:
                    if (payload.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Object))
                        throw new ProtocolViolationException($"Invalid message received: the '{type}' payload must be an object");
                    return new ClientMessage(type, null, payload);
                case Subscribe:
                    var id = RequireId(root, type);
                    CheckSubscribePayload(payload);
                    return new ClientMessage(type, id, payload);
                case Complete:
                    return new ClientMessage(type, RequireId(root, type), default);
                case ConnectionAck or Next or Error:
                    throw new ProtocolViolationException($"Invalid message received: '{type}' is sent by servers, not clients");
                default:
                    throw new ProtocolViolationException($"Invalid message received: unknown type '{type}'");
            }
        }
    }

    private static string RequireId(JsonElement root, string type) =>
        root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && id.GetString() is { Length: > 0 } value
            ? value
            : throw new ProtocolViolationException($"Invalid message received: '{type}' needs a non-empty string 'id'");

    private static void CheckSubscribePayload(JsonElement payload)
    {
        if (payload.ValueKind != JsonValueKind.Object)
            throw new ProtocolViolationException("Invalid message received: 'subscribe' needs an object 'payload'");
        // a persisted document (documentId, or an APQ hash in extensions) stands in for the query
        var named = payload.TryGetProperty("documentId", out var documentId) && documentId.ValueKind == JsonValueKind.String
                    || payload.TryGetProperty("extensions", out var extensions) && extensions.ValueKind == JsonValueKind.Object;
        var hasQuery = payload.TryGetProperty("query", out var query) && query.ValueKind != JsonValueKind.Null;
        if (hasQuery ? query.ValueKind != JsonValueKind.String : !named)
            throw new ProtocolViolationException("Invalid message received: the 'subscribe' payload needs a string 'query'");
        if (payload.TryGetProperty("operationName", out var name) && name.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
            throw new ProtocolViolationException("Invalid message received: 'operationName' must be a string or null");
        foreach (var property in (ReadOnlySpan<string>)["variables", "extensions"])
            if (payload.TryGetProperty(property, out var value) && value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
                throw new ProtocolViolationException($"Invalid message received: '{property}' must be an object or null");
    }
}
