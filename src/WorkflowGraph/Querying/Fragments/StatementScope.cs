using Npgsql;
using NpgsqlTypes;

namespace WorkflowGraph.Querying.Fragments;

/// <summary>
/// The parameters and row aliases of one statement being emitted: both are numbered in the order they are asked for,
/// so the same request always yields the same text (prepared statements, SQL snapshots).
/// </summary>
public sealed class StatementScope
{
    private int _aliases;

    public List<NpgsqlParameter> Parameters { get; } = [];

    /// <summary>
    /// Whether the reader may see PHI, when the statement's caller knows it from the request's token (the same value the
    /// request's transaction sets as <c>app.phi_read</c>): the emit then writes only the branch of a classified column that
    /// applies to this reader. Null: each classified column carries both branches and the transaction's setting decides.
    /// </summary>
    public bool? PhiRead { get; init; }

    public SqlAlias Alias() => SqlAlias.Numbered(_aliases++);

    /// <summary>A typed parameter; its placeholder is the fragment returned.</summary>
    public Sql Parameter(object? value, NpgsqlDbType type)
    {
        Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value, NpgsqlDbType = type });
        return Sql.Raw($"${Parameters.Count}");
    }
}
