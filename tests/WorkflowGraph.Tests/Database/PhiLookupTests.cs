using Npgsql;
using WorkflowGraph.Database;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

/// <summary>
/// The PHI classification lookups every masked read makes (migration 051: plpgsql, their plans kept by the connection)
/// answer for the caller's organisation only — also when one connection serves two organisations one after the other,
/// as a pooled connection does — and follow a change of the rules at once.
/// </summary>
public sealed class PhiLookupTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private const string Lookups =
        "SELECT phi_column_classified('external_id'), array_to_string(phi_classified_keys('context_key'), ','), " +
        "array_to_string(phi_sensitive_nodes(), ',')";

    /// <summary>
    /// The lookups in a transaction made the tenant's the service's way (<see cref="TenantTransaction.Commands"/>), on
    /// <paramref name="conn"/>.
    /// </summary>
    private static async Task<string> AsTenantAsync(NpgsqlConnection conn, Guid org)
    {
        await using var tx = await conn.BeginTransactionAsync();
        await using var batch = new NpgsqlBatch(conn, tx);
        foreach (var command in TenantTransaction.Commands(org, null))
            batch.BatchCommands.Add(command);
        batch.BatchCommands.Add(new NpgsqlBatchCommand(Lookups));
        await using var reader = await batch.ExecuteReaderAsync();
        // past the tenant setup's one row set
        await reader.NextResultAsync();
        await reader.ReadAsync();
        return $"{reader.GetBoolean(0)}|{reader.GetString(1)}|{reader.GetString(2)}";
    }

    [Fact]
    public async Task The_lookups_answer_for_the_callers_organisation_on_a_shared_connection_and_follow_changes()
    {
        await using var owner = await db.DataSource.OpenConnectionAsync();
        var a = await TenantWorld.CreateAsync(owner, "Lookups A");
        var b = await TenantWorld.CreateAsync(owner, "Lookups B");
        await owner.ExecAsync(
            "INSERT INTO phi_classification_rules (org_id, target, key, sensitivity) VALUES " +
            "($1, 'column', 'external_id', 'phi'), ($1, 'context_key', 'member_id', 'phi'), ($1, 'context_key', 'payer', 'none'), " +
            "($2, 'context_key', 'claim', 'pii')", a.OrgId, b.OrgId);
        await owner.ExecAsync(
            "INSERT INTO node_io_requirements (org_id, node_id, direction, field_name, field_type, sensitivity) " +
            "VALUES ($1, $2, 'input', 'member_id', 'string', 'phi')", a.OrgId, a.NodeIds[0]);

        // one session for both organisations, several times over: the kept plans must not keep an answer
        await using var conn = new NpgsqlConnection(db.ServiceConnectionString);
        await conn.OpenAsync();
        for (var round = 0; round < 3; round++)
        {
            Assert.Equal($"True|member_id|{a.NodeIds[0]}", await AsTenantAsync(conn, a.OrgId));
            Assert.Equal("False|claim|", await AsTenantAsync(conn, b.OrgId));
        }

        await owner.ExecAsync("UPDATE phi_classification_rules SET sensitivity = 'none' WHERE org_id = $1 AND target = 'column'", a.OrgId);
        await owner.ExecAsync("UPDATE node_io_requirements SET sensitivity = 'none' WHERE org_id = $1", a.OrgId);
        Assert.Equal("False|member_id|", await AsTenantAsync(conn, a.OrgId));
        Assert.Equal("False||", await AsTenantAsync(conn, Guid.NewGuid()));

        await using var kind = new NpgsqlCommand(
            "SELECT string_agg(p.proname || ':' || l.lanname || ':' || coalesce(array_to_string(p.proconfig, ','), ''), ' ' " +
            "ORDER BY p.proname) " +
            "FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang " +
            "WHERE p.proname IN ('phi_column_classified', 'phi_classified_keys', 'phi_sensitive_nodes')", conn);
        Assert.Equal("phi_classified_keys:plpgsql: phi_column_classified:plpgsql: phi_sensitive_nodes:plpgsql:",
            await kind.ExecuteScalarAsync());
    }
}
