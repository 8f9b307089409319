using Npgsql;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

/// <summary>
/// Tenancy as PostgreSQL enforces it: two organisations with data in every tenant table, read and written as the
/// service role. Each test builds its data as the owner inside one transaction, then switches role and organisation.
/// </summary>
public sealed class RowLevelSecurityTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private static readonly string[] Relations =
    [
        "users", "workflows", "workflow_nodes", "workflow_configs", "channel_configs", "workflow_channel_configs",
        "node_io_requirements", "workflow_data_bindings", "config_status", "workflow_trace", "workflow_steps",
        "workflow_trace_context", "workflow_events",
        "v_active_workflow_configs", "v_workflow_execution_summary", "v_workflow_channel_performance",
        "v_node_execution_stats", "v_workflow_execution_timeline", "v_failed_steps_analysis",
    ];

    public static TheoryData<string> TenantRelations => new(Relations);

    private sealed record TenantRows(TenantWorld World, long TraceId, long StepId, long FailedStepId, Guid ConfigId);

    /// <summary>A run with context, a completed and a failed step, configs, IO requirements and a binding.</summary>
    private static async Task<TenantRows> FillAsync(NpgsqlConnection owner, string label)
    {
        var w = await TenantWorld.CreateAsync(owner, label);
        var configId = await owner.ScalarAsync<Guid>(
            "INSERT INTO workflow_configs (org_id, workflow_id, config_type, is_active) VALUES ($1, $2, 'workflow', true) RETURNING id",
            w.OrgId, w.WorkflowId);
        await owner.ExecAsync("INSERT INTO channel_configs (org_id, channel) VALUES ($1, 'voice')", w.OrgId);
        await owner.ExecAsync(
            "INSERT INTO workflow_channel_configs (org_id, workflow_id, channel) VALUES ($1, $2, 'web')", w.OrgId, w.WorkflowId);
        await owner.ExecAsync(
            "INSERT INTO node_io_requirements (org_id, node_id, direction, field_name, field_type) " +
            "VALUES ($1, $2, 'input', 'member_id', 'string')", w.OrgId, w.NodeIds[0]);
        await owner.ExecAsync(
            "INSERT INTO workflow_data_bindings (org_id, workflow_id, source_node_id, source_field, target_node_id, target_field) " +
            "VALUES ($1, $2, $3, 'out', $4, 'in')",
            w.OrgId, w.WorkflowId, w.NodeIds[0], w.NodeIds[1]);
        var traceId = await w.StartRunAsync(owner);
        await owner.ExecAsync("SELECT set_workflow_context($1, 'member', '\"M1\"')", traceId);
        var stepId = await w.StartStepAsync(owner, traceId, 1);
        await TenantWorld.CompleteStepAsync(owner, stepId, "completed");
        var failedStepId = await w.StartStepAsync(owner, traceId, 2, 1);
        await TenantWorld.CompleteStepAsync(owner, failedStepId, "failed", "portal down");
        return new TenantRows(w, traceId, stepId, failedStepId, configId);
    }

    private async Task<(NpgsqlConnection Conn, TenantRows A, TenantRows B)> BeginWithTwoTenantsAsync()
    {
        var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecAsync("BEGIN");
        var a = await FillAsync(conn, "Tenant A");
        var b = await FillAsync(conn, "Tenant B");
        return (conn, a, b);
    }

    private static Task SwitchOrgAsync(NpgsqlConnection conn, Guid? orgId) =>
        conn.ExecAsync("SELECT set_config('app.current_org_id', $1, true)", orgId?.ToString() ?? "");

    [Theory]
    [MemberData(nameof(TenantRelations))]
    public async Task Each_tenant_table_and_view_shows_only_the_callers_rows(string relation)
    {
        var (conn, a, b) = await BeginWithTwoTenantsAsync();
        await using var _ = conn;
        var ownCount = await conn.ScalarAsync<long>($"SELECT count(*) FROM {relation} WHERE org_id = $1", a.World.OrgId);
        Assert.True(ownCount > 0, $"the data set must put rows of org A into {relation}");
        Assert.True(await conn.ScalarAsync<long>($"SELECT count(*) FROM {relation} WHERE org_id = $1", b.World.OrgId) > 0);

        await conn.BecomeTenantAsync(a.World.OrgId, a.World.UserId);

        Assert.Equal(ownCount, await conn.ScalarAsync<long>($"SELECT count(*) FROM {relation}"));
        Assert.Equal(0L, await conn.ScalarAsync<long>($"SELECT count(*) FROM {relation} WHERE org_id <> $1", a.World.OrgId));
        await SwitchOrgAsync(conn, b.World.OrgId);
        Assert.Equal(0L, await conn.ScalarAsync<long>($"SELECT count(*) FROM {relation} WHERE org_id = $1", a.World.OrgId));
    }

    [Fact]
    public async Task Without_an_organisation_nothing_is_visible_anywhere()
    {
        var (conn, a, _) = await BeginWithTwoTenantsAsync();
        await using var __ = conn;
        await conn.BecomeTenantAsync(orgId: null);

        foreach (var relation in Relations.Append("organizations"))
            Assert.Equal(0L, await conn.ScalarAsync<long>($"SELECT count(*) FROM {relation}"));
        Assert.Equal("WF001", (await conn.FailsAsync("SELECT start_workflow_execution($1, 'web')", a.World.WorkflowId)).SqlState);
        Assert.Equal("WF001", (await conn.FailsAsync("SELECT * FROM get_workflow_context($1)", a.TraceId)).SqlState);
    }

    [Fact]
    public async Task The_organisations_table_shows_only_the_callers_organisation()
    {
        var (conn, a, _) = await BeginWithTwoTenantsAsync();
        await using var __ = conn;
        await conn.BecomeTenantAsync(a.World.OrgId);
        Assert.Equal(a.World.OrgId, await conn.ScalarAsync<Guid>("SELECT id FROM organizations"));
        Assert.Equal(1L, await conn.ScalarAsync<long>("SELECT count(*) FROM organizations"));
    }

    [Fact]
    public async Task Another_organisations_ids_are_not_found_by_any_function()
    {
        var (conn, a, b) = await BeginWithTwoTenantsAsync();
        await using var _ = conn;
        await conn.BecomeTenantAsync(b.World.OrgId, b.World.UserId);

        var calls = new (string Sql, object[] Args)[]
        {
            ("SELECT start_workflow_execution($1, 'web')", [a.World.WorkflowId]),
            ("SELECT complete_workflow_execution($1, 'failed', NULL)", [a.TraceId]),
            ("SELECT start_workflow_step($1, $2, 9, NULL)", [a.TraceId, a.World.NodeIds[2]]),
            // B's own run cannot use A's node either
            ("SELECT start_workflow_step($1, $2, 9, NULL)", [b.TraceId, a.World.NodeIds[2]]),
            ("SELECT complete_workflow_step($1, 'completed', NULL, NULL)", [a.StepId]),
            ("SELECT retry_workflow_step($1)", [a.FailedStepId]),
            ("SELECT set_workflow_context($1, 'member', '\"stolen\"')", [a.TraceId]),
            ("SELECT * FROM get_workflow_context($1)", [a.TraceId]),
            ("SELECT * FROM get_active_workflow_config($1, 'web')", [a.World.WorkflowId]),
            ("SELECT * FROM activate_workflow_config($1)", [a.ConfigId]),
        };
        foreach (var (sql, args) in calls)
        {
            var error = await conn.FailsAsync(sql, args);
            Assert.True(error.SqlState == "WF001", $"{sql}: expected WF001, got {error.SqlState} {error.MessageText}");
        }

        await SwitchOrgAsync(conn, a.World.OrgId);
        Assert.Equal("failed", await conn.ScalarAsync<string>("SELECT status FROM workflow_steps WHERE id = $1", a.FailedStepId));
        Assert.Equal("active", await conn.ScalarAsync<string>("SELECT status FROM workflow_trace WHERE id = $1", a.TraceId));
        Assert.Equal("\"M1\"",
            await conn.ScalarAsync<string>("SELECT value::text FROM workflow_trace_context WHERE trace_id = $1", a.TraceId));
    }

    [Fact]
    public async Task Writes_can_neither_target_nor_reach_into_another_organisation()
    {
        var (conn, a, b) = await BeginWithTwoTenantsAsync();
        await using var _ = conn;
        await conn.BecomeTenantAsync(b.World.OrgId, b.World.UserId);

        // rows labelled with another org fail the policy's WITH CHECK
        Assert.Equal("42501",
            (await conn.FailsAsync("INSERT INTO workflows (org_id, name) VALUES ($1, 'planted')", a.World.OrgId)).SqlState);
        Assert.Equal("42501",
            (await conn.FailsAsync("UPDATE workflows SET org_id = $1 WHERE id = $2", a.World.OrgId, b.World.WorkflowId)).SqlState);
        // own rows pointing at another org's parents fail the composite foreign keys
        Assert.Equal("23503",
            (await conn.FailsAsync("INSERT INTO workflow_trace (workflow_id, channel) VALUES ($1, 'web')", a.World.WorkflowId)).SqlState);
        Assert.Equal("23503", (await conn.FailsAsync(
            "INSERT INTO workflow_events (trace_id, event_type) VALUES ($1, 'planted')", a.TraceId)).SqlState);
        Assert.Equal("23503", (await conn.FailsAsync(
            "INSERT INTO workflow_steps (trace_id, node_id, step_number) VALUES ($1, $2, 50)", b.TraceId, a.World.NodeIds[0])).SqlState);
        // another org's rows are invisible to UPDATE and DELETE
        Assert.Equal(0, await conn.ExecAsync("UPDATE workflow_trace SET error_message = 'x' WHERE id = $1", a.TraceId));
        Assert.Equal(0, await conn.ExecAsync("DELETE FROM workflow_trace_context WHERE trace_id = $1", a.TraceId));
        Assert.Equal(0, await conn.ExecAsync("DELETE FROM workflows WHERE id = $1", a.World.WorkflowId));

        await SwitchOrgAsync(conn, a.World.OrgId);
        Assert.Null(await conn.ScalarAsync<string?>("SELECT error_message FROM workflow_trace WHERE id = $1", a.TraceId));
        Assert.Equal(1L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_trace_context WHERE trace_id = $1", a.TraceId));
        Assert.Equal(0L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflows WHERE name = 'planted'"));
    }

    [Fact]
    public async Task The_service_role_owns_nothing_and_cannot_bypass_row_level_security()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var role = (await conn.RowsAsync(
            "SELECT rolsuper, rolbypassrls, rolcanlogin, rolcreaterole, rolcreatedb FROM pg_roles " +
            "WHERE rolname = 'workflowgraph_app'")).Single();
        Assert.All(role.Values, v => Assert.False((bool)v!));
        Assert.Equal(0L, await conn.ScalarAsync<long>(
            "SELECT (SELECT count(*) FROM pg_class WHERE relowner = r.oid) + (SELECT count(*) FROM pg_proc WHERE proowner = r.oid) " +
            "+ (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid) + (SELECT count(*) FROM pg_type WHERE typowner = r.oid) " +
            "FROM pg_roles r WHERE r.rolname = 'workflowgraph_app'"));
        Assert.Equal(0L, await conn.ScalarAsync<long>(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> 'schema_migrations' " +
            "AND NOT c.relrowsecurity AND NOT c.relispartition"));

        var (tx, a, _) = await BeginWithTwoTenantsAsync();
        await using var __ = tx;
        var partition = await tx.ScalarAsync<string>(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid " +
            "WHERE i.inhparent = 'workflow_events'::regclass LIMIT 1");
        await tx.BecomeTenantAsync(a.World.OrgId, a.World.UserId);

        var attempts = new[]
        {
            "ALTER TABLE workflow_trace DISABLE ROW LEVEL SECURITY",
            "ALTER TABLE workflow_trace NO FORCE ROW LEVEL SECURITY",
            "DROP POLICY workflow_trace__tenant ON workflow_trace",
            "CREATE POLICY open_door ON workflow_trace USING (true)",
            "SET LOCAL row_security = off; SELECT count(*) FROM workflow_trace",
            $"SELECT count(*) FROM {partition}",
            "INSERT INTO config_status (org_id, entity_type, entity_id, is_active) " +
            "VALUES (app_current_org_id(), 'workflow_config', gen_random_uuid(), true)",
            "UPDATE workflow_events SET event_data = '{}'",
            "DELETE FROM workflow_events",
            "SELECT * FROM drop_workflow_event_partitions_before(now(), false)",
            "CREATE TABLE public.shadow (id int)",
            // no temporary tables either: they could shadow tables inside functions that trust search_path
            "CREATE TEMP TABLE workflow_events_default (id int)",
        };
        Assert.Equal(0L, await tx.ScalarAsync<long>(
            "SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND prosecdef " +
            "AND NOT proconfig @> ARRAY['search_path=pg_catalog, public, pg_temp']"));
        foreach (var sql in attempts)
        {
            var error = await tx.FailsAsync(sql);
            Assert.True(error.SqlState == "42501", $"{sql}: expected a privilege error, got {error.SqlState} {error.MessageText}");
        }
    }
}
