using System.Text.Json;
using GraphQL;
using GraphQL.Resolvers;

namespace WorkflowGraph.Querying;

/// <summary>
/// Reads a field from the JSON object PostgreSQL built for its parent. Keys are response keys (aliases), because
/// the projection was built for exactly this selection.
/// </summary>
public sealed class JsonFieldResolver(ScalarKind? kind) : IFieldResolver
{
    public ValueTask<object?> ResolveAsync(IResolveFieldContext context)
    {
        var source = (JsonElement)context.Source!;
        var key = context.FieldAst.Alias?.Name.StringValue ?? context.FieldAst.Name.StringValue;
        return new(source.TryGetProperty(key, out var value) ? Read(value, kind) : null);
    }

    public static object? Read(JsonElement value, ScalarKind? kind)
    {
        if (value.ValueKind == JsonValueKind.Null)
            return null;
        return kind switch
        {
            null => value.ValueKind == JsonValueKind.Array ? value.EnumerateArray() : value,
            ScalarKind.Json => value,
            ScalarKind.Int => value.GetInt32(),
            ScalarKind.Long => value.GetInt64(),
            ScalarKind.Float => value.GetDouble(),
            ScalarKind.Boolean => value.GetBoolean(),
            _ => value.GetString(),
        };
    }
}
