namespace WorkflowGraph.Querying.Fragments;

/// <summary>A row alias of one statement (<c>t0</c>, <c>t1</c>… from its <see cref="StatementScope"/>, or a fixed name).</summary>
public sealed class SqlAlias
{
    private SqlAlias(string name) => Name = name;

    public string Name { get; }

    /// <summary>An alias a hand-written statement chose (the event feed's <c>e</c> and <c>t</c>).</summary>
    public static SqlAlias Named(string name) => new(name);

    internal static SqlAlias Numbered(int number) => new($"t{number}");

    /// <summary>A column of this row; the name comes from an entity map, never from a client.</summary>
    public Sql Column(string column) => Sql.Of($"{this}.{Sql.Raw(column)}");

    public override string ToString() => Name;
}
