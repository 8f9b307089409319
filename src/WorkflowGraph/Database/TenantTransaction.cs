using Npgsql;

namespace WorkflowGraph.Database;

/// <summary>
/// What makes a transaction a tenant's (PostGraphile's authenticator pattern): it runs as <c>workflowgraph_app</c>
/// with the organisation and user set transaction-locally, so row level security applies whatever the login is
/// (even an owner or superuser). Every statement the service sends for a tenant is preceded by these commands in
/// the same round trip.
/// </summary>
public static class TenantTransaction
{
    public const string AppRole = "workflowgraph_app";

    /// <summary>
    /// The two commands that make a transaction the tenant's: the service role, then one SELECT setting the org,
    /// the user and any further transaction-local <paramref name="settings"/> (its one row set is the caller's to skip).
    /// Null ids mean "none": RLS then shows no rows.
    /// </summary>
    public static NpgsqlBatchCommand[] Commands(Guid? orgId, Guid? userId, params (string Name, string Value)[] settings)
    {
        var select = new NpgsqlBatchCommand(
            "SELECT set_config('app.current_org_id', $1, true), set_config('app.current_user_id', $2, true)" +
            string.Concat(settings.Select((_, i) => $", set_config(${3 + 2 * i}, ${4 + 2 * i}, true)")))
        {
            Parameters = { new() { Value = orgId?.ToString() ?? "" }, new() { Value = userId?.ToString() ?? "" } },
        };
        foreach (var (name, value) in settings)
        {
            select.Parameters.Add(new NpgsqlParameter { Value = name });
            select.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        return [new NpgsqlBatchCommand($"SET LOCAL ROLE {AppRole}"), select];
    }
}
