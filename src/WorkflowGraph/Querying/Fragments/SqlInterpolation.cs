using System.Globalization;
using System.Runtime.CompilerServices;

namespace WorkflowGraph.Querying.Fragments;

/// <summary>
/// Builds a <see cref="Sql"/> from an interpolated string. Holes take fragments, aliases and integers only: a string
/// hole does not compile, so a value can only reach a statement as a parameter.
/// </summary>
[InterpolatedStringHandler]
public ref struct SqlInterpolation
{
    private readonly List<object> _parts;

    public SqlInterpolation(int literalLength, int formattedCount) => _parts = new List<object>(2 * formattedCount + 1);

    public readonly void AppendLiteral(string text)
    {
        if (text.Length > 0)
            _parts.Add(text);
    }

    public readonly void AppendFormatted(Sql sql) => _parts.Add(sql);

    public readonly void AppendFormatted(SqlAlias alias) => _parts.Add(alias);

    public readonly void AppendFormatted(int value) => _parts.Add(value.ToString(CultureInfo.InvariantCulture));

    internal readonly Sql Build() => Sql.FromParts(_parts);
}
