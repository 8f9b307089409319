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

    public SqlAlias Alias() => SqlAlias.Numbered(_aliases++);

    /// <summary>A typed parameter; its placeholder is the fragment returned.</summary>
    public Sql Parameter(object? value, NpgsqlDbType type)
    {
        Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value, NpgsqlDbType = type });
        return Sql.Raw($"${Parameters.Count}");
    }
}
