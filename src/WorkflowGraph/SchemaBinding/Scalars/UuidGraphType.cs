namespace WorkflowGraph.SchemaBinding.Scalars;

public sealed class UuidGraphType : StringScalarGraphType
{
    public UuidGraphType() => Name = "UUID";

    public override object? ParseValue(object? value) => value switch
    {
        null => null,
        Guid g => g,
        string s when Guid.TryParse(s, out var g) => g,
        _ => ThrowValueConversionError(value),
    };

    public override object? Serialize(object? value) => value switch
    {
        null => null,
        string s => s,
        Guid g => g.ToString(),
        _ => ThrowSerializationError(value),
    };
}
