using Npgsql;

namespace WorkflowGraph.Database;

/// <summary>One SQL statement and its parameters.</summary>
public sealed record Statement(string Sql, IReadOnlyList<NpgsqlParameter> Parameters);
