using System.Text;

namespace WorkflowGraph.Querying.Fragments;

/// <summary>
/// A piece of SQL as a value (PostGraphile's pg-sql2 idea): text the engine wrote, row aliases and parameter
/// placeholders, composed with <see cref="Of"/> and the combinators below. Client values never enter the text —
/// they are parameters of the <see cref="StatementScope"/> — and "no condition" is <see cref="Empty"/>, not a marker
/// string. Rendered once, when the statement is sent.
/// </summary>
public sealed class Sql
{
    // each part is a string, a SqlAlias or a Sql
    private readonly object[] _parts;

    private Sql(object[] parts) => _parts = parts;

    /// <summary>Nothing: an absent condition, an empty list.</summary>
    public static Sql Empty { get; } = new([]);

    public bool IsEmpty => _parts.Length == 0;

    /// <summary>Text the engine itself wrote: keywords, and table and column names from the entity maps.</summary>
    public static Sql Raw(string text) => text.Length == 0 ? Empty : new([text]);

    /// <summary>SQL composed from literal text and fragments, aliases or integers (never strings: use <see cref="Raw"/>).</summary>
    public static Sql Of(ref SqlInterpolation sql) => sql.Build();

    internal static Sql FromParts(List<object> parts) => new([.. parts]);

    public static Sql Join(string separator, IEnumerable<Sql> items)
    {
        var parts = new List<object>();
        foreach (var item in items)
        {
            if (parts.Count > 0)
                parts.Add(separator);
            parts.Add(item);
        }
        return parts.Count == 0 ? Empty : new Sql([.. parts]);
    }

    /// <summary>Every condition holds; empty ones constrain nothing and are left out.</summary>
    public static Sql And(IEnumerable<Sql> conditions)
    {
        var present = conditions.Where(c => !c.IsEmpty).ToList();
        return present.Count switch
        {
            0 => Empty,
            1 => present[0],
            _ => Of($"({Join(" AND ", present)})"),
        };
    }

    /// <summary>One condition holds: an empty alternative (or none at all) constrains nothing, like an empty <c>and</c>.</summary>
    public static Sql Or(IEnumerable<Sql> conditions)
    {
        var list = conditions.ToList();
        if (list.Count == 0 || list.Any(c => c.IsEmpty))
            return Empty;
        return list.Count == 1 ? list[0] : Of($"({Join(" OR ", list)})");
    }

    /// <summary>This condition where SQL needs one written out: an empty one is <c>TRUE</c>.</summary>
    public Sql OrTrue() => IsEmpty ? Raw("TRUE") : this;

    /// <summary>This fragment after <paramref name="prefix"/>, or nothing when it is empty (" WHERE ", " AND ").</summary>
    public Sql After(string prefix) => IsEmpty ? Empty : new([prefix, this]);

    public void WriteTo(StringBuilder text)
    {
        foreach (var part in _parts)
        {
            switch (part)
            {
                case string literal:
                    text.Append(literal);
                    break;
                case SqlAlias alias:
                    text.Append(alias.Name);
                    break;
                case Sql nested:
                    nested.WriteTo(text);
                    break;
            }
        }
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        WriteTo(text);
        return text.ToString();
    }
}
