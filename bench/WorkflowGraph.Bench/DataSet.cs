using Npgsql;

namespace WorkflowGraph.Bench;

/// <summary>
/// A production-shaped data set, generated set-based: runs spread over organisations, workflows, channels and
/// the last 90 days; most complete, a tail fails (and retried), some still run. Ten steps per run on average.
/// </summary>
public static class DataSet
{
    public static async Task GenerateAsync(NpgsqlDataSource owner, int traces, int orgs, TextWriter log)
    {
        await using var conn = await owner.OpenConnectionAsync();
        async Task Run(string label, string sql)
        {
            var started = DateTime.UtcNow;
            await using var command = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
            await command.ExecuteNonQueryAsync();
            log.WriteLine($"  {label,-12} {(DateTime.UtcNow - started).TotalSeconds,6:0.0} s");
        }

        await Run("orgs", $"""
            INSERT INTO organizations (id, name)
            SELECT ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'Bench org ' || g FROM generate_series(1, {orgs}) g;
            INSERT INTO workflows (id, org_id, name)
            SELECT ('00000000-0000-4000-9000-' || lpad((o * 10 + w)::text, 12, '0'))::uuid,
                   ('00000000-0000-4000-8000-' || lpad(o::text, 12, '0'))::uuid, 'Workflow ' || w
              FROM generate_series(1, {orgs}) o, generate_series(1, 5) w;
            INSERT INTO workflow_nodes (org_id, workflow_id, name, node_type, position)
            SELECT w.org_id, w.id, 'Node ' || p, 'action', p FROM workflows w, generate_series(1, 12) p;
            """);
        await Run("traces", $"""
            INSERT INTO workflow_trace (org_id, workflow_id, channel, status, external_id, start_time, end_time, created_at, updated_at)
            SELECT ('00000000-0000-4000-8000-' || lpad(o::text, 12, '0'))::uuid,
                   ('00000000-0000-4000-9000-' || lpad((o * 10 + 1 + g % 5)::text, 12, '0'))::uuid,
                   (ARRAY['web', 'web', 'voice', 'efax'])[1 + g % 4],
                   s.status, 'EXT-' || g, s.start_time,
                   CASE WHEN s.status IN ('pending', 'active') THEN NULL ELSE s.start_time + (1 + g % 300) * interval '1 second' END,
                   s.start_time, s.start_time
              FROM generate_series(1, {traces}) g
              CROSS JOIN LATERAL (SELECT 1 + g % {orgs} AS o) org(o)
              CROSS JOIN LATERAL (SELECT
                   CASE WHEN g % 50 = 0 THEN 'active' WHEN g % 97 = 0 THEN 'pending' WHEN g % 13 = 0 THEN 'failed'
                        WHEN g % 41 = 0 THEN 'timeout' WHEN g % 89 = 0 THEN 'cancelled' ELSE 'completed' END AS status,
                   now() - (g::double precision / {traces}) * interval '90 days' AS start_time) s;
            """);
        await Run("steps", """
            INSERT INTO workflow_steps (org_id, trace_id, node_id, step_number, status, retry_count, start_time, end_time, created_at, updated_at)
            SELECT t.org_id, t.id, n.id, n.position,
                   CASE WHEN t.status = 'failed' AND n.position = 1 + t.id % 10 THEN 'failed'
                        WHEN t.status IN ('active', 'pending') AND n.position = 1 + t.id % 10 THEN 'running'
                        ELSE 'completed' END,
                   CASE WHEN t.status = 'failed' AND n.position = 1 + t.id % 10 THEN 1 ELSE 0 END,
                   t.start_time + n.position * interval '2 seconds',
                   CASE WHEN t.status IN ('active', 'pending') AND n.position = 1 + t.id % 10 THEN NULL
                        ELSE t.start_time + n.position * interval '2 seconds' + (100 + t.id % 1900) * interval '1 millisecond' END,
                   t.start_time, t.start_time
              FROM workflow_trace t
              JOIN workflow_nodes n ON n.workflow_id = t.workflow_id
                   AND n.position <= CASE WHEN t.status IN ('failed', 'active', 'pending') THEN 1 + t.id % 10 ELSE 10 END;
            """);
        await Run("analyze", "VACUUM ANALYZE");
    }
}
