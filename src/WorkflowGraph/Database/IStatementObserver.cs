using Npgsql;

namespace WorkflowGraph.Database;

/// <summary>Sees every statement the engine sends (tests and the benchmark record them; production registers nothing).</summary>
public interface IStatementObserver
{
    void OnStatement(string sql, IReadOnlyList<NpgsqlParameter> parameters);
}
