using Npgsql;

namespace WorkflowGraph.Database;

/// <summary>
/// What the service's own login may do beyond <c>workflowgraph_app</c>: a superuser, a login that bypasses row level
/// security, or one that owns tables is one forgotten <c>SET ROLE</c> away from seeing every organisation.
/// </summary>
public static class LoginPrivilegeCheck
{
    /// <returns>Why the login is more privileged than it should be; empty when it is not.</returns>
    public static async Task<IReadOnlyList<string>> ProblemsAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            SELECT r.rolname, r.rolsuper, r.rolbypassrls,
                   (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE c.relowner = r.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%')
              FROM pg_roles r WHERE r.rolname = current_user
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var problems = new List<string>();
        if (!await reader.ReadAsync(cancellationToken))
            return problems;
        var login = reader.GetString(0);
        if (reader.GetBoolean(1))
            problems.Add($"the login {login} is a superuser");
        if (reader.GetBoolean(2))
            problems.Add($"the login {login} bypasses row level security");
        if (reader.GetInt64(3) > 0)
            problems.Add($"the login {login} owns {reader.GetInt64(3)} tables or views");
        return problems;
    }
}
