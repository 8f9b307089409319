using System.Globalization;

namespace WorkflowGraph.SchemaBinding.Scalars;

public sealed class DateTimeOffsetGraphType : StringScalarGraphType
{
    public DateTimeOffsetGraphType() => Name = "DateTime";

    public override object? ParseValue(object? value) => value switch
    {
        null => null,
        DateTimeOffset d => d,
        DateTime d => new DateTimeOffset(d.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(d, DateTimeKind.Utc) : d),
        string s when HasDate(s) && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d) =>
            d,
        _ => ThrowValueConversionError(value),
    };

    /// <summary>
    /// RFC 3339 (the scalar's <c>@specifiedBy</c>) begins with the full date. .NET would also read a time alone as today
    /// at that time: a value that means another instant each day is refused, so a literal means the same every time it
    /// is read (documents and their statements are kept).
    /// </summary>
    private static bool HasDate(string s) =>
        s.Length >= 10 && DateOnly.TryParseExact(s.AsSpan(0, 10), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);

    public override object? Serialize(object? value) => value switch
    {
        null => null,
        string s => s,
        DateTimeOffset d => d.ToString("O", CultureInfo.InvariantCulture),
        DateTime d => d.ToString("O", CultureInfo.InvariantCulture),
        _ => ThrowSerializationError(value),
    };
}
