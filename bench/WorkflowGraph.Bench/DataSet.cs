using Npgsql;
using WorkflowGraph.Database.Migrations;
using WorkflowGraph.Development;

namespace WorkflowGraph.Bench;

/// <summary>
/// A production-shaped data set, generated set-based: runs spread over organisations, workflows, channels and
/// the last 90 days; most complete, a tail fails (and is retried), some still run. Ten steps per run on average,
/// two to three events per step plus the run's own, and three context entries per run.
/// </summary>
public static class DataSet
{
    /// <summary>Bump when the generated shape changes: the database name carries it, so old sets are not reused.</summary>
    public const int Version = 4;

    private static readonly string[] BulkTables = ["workflow_trace", "workflow_steps", "workflow_events", "workflow_trace_context"];

    /// <summary>
    /// The data set <c>bench_&lt;traces&gt;</c> on the cluster, generated unless a complete one of this version is there
    /// (the database's comment records the version once generation finished). Newer migrations are applied.
    /// </summary>
    public static async Task<string> EnsureAsync(EmbeddedPostgres cluster, int traces, int orgs, TextWriter log)
    {
        var database = $"bench_{traces}";
        var ownerConnection = cluster.GetConnectionString(database);
        var marker = $"WorkflowGraph benchmark data set v{Version}: {traces} traces, {orgs} organisations";
        await using var admin = NpgsqlDataSource.Create(cluster.GetConnectionString("postgres"));
        await using var find = admin.CreateCommand("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1");
        find.Parameters.Add(new NpgsqlParameter { Value = database });
        var found = await find.ExecuteScalarAsync();
        if (found is string comment && comment == marker)
        {
            // a data set made by an older checkout gets the newer migrations
            await new MigrationRunner(ownerConnection, MigrationScript.Embedded).MigrateAsync();
            await RemoveBenchmarkWritesAsync(ownerConnection, log);
            return ownerConnection;
        }
        var started = DateTime.UtcNow;
        log.WriteLine($"Generating the data set into {database} ({traces:N0} traces):");
        if (found is not null)
            await admin.CreateCommand($"DROP DATABASE {database} WITH (FORCE)").ExecuteNonQueryAsync();
        await admin.CreateCommand($"CREATE DATABASE {database}").ExecuteNonQueryAsync();
        await new MigrationRunner(ownerConnection, MigrationScript.Embedded).MigrateAsync();
        await using (var owner = NpgsqlDataSource.Create(ownerConnection))
            await GenerateAsync(owner, traces, orgs, log);
        await admin.CreateCommand($"COMMENT ON DATABASE {database} IS '{marker}'").ExecuteNonQueryAsync();
        log.WriteLine($"  done in {(DateTime.UtcNow - started).TotalSeconds:0} s");
        return ownerConnection;
    }

    /// <summary>
    /// Removes the runs that earlier benchmark runs wrote (generated runs have external ids <c>EXT-n</c>) with their
    /// steps, events and context, and vacuums, so every run reads the same data set: left in place, a write
    /// scenario's runs with hundreds of steps would become the newest runs and its steps would pile up on one node.
    /// </summary>
    private static async Task RemoveBenchmarkWritesAsync(string ownerConnection, TextWriter log)
    {
        await using var owner = NpgsqlDataSource.Create(ownerConnection);
        // deletes leave the statistics rollups alone (they keep history), so the hours written are rebuilt after them
        await using var delete = owner.CreateCommand("""
            WITH removed AS (DELETE FROM workflow_trace WHERE external_id IS NULL OR external_id NOT LIKE 'EXT-%' RETURNING start_time)
            SELECT count(*), min(start_time) FROM removed
            """);
        delete.CommandTimeout = 0;
        long removed;
        DateTime earliest;
        await using (var reader = await delete.ExecuteReaderAsync())
        {
            await reader.ReadAsync();
            removed = reader.GetInt64(0);
            earliest = removed > 0 ? reader.GetDateTime(1) : default;
        }
        if (removed == 0)
            return;
        await using var rebuild = owner.CreateCommand("SELECT rebuild_stats_rollups($1, now() + interval '1 hour')");
        rebuild.Parameters.Add(new NpgsqlParameter { Value = earliest });
        rebuild.CommandTimeout = 0;
        await rebuild.ExecuteNonQueryAsync();
        var started = DateTime.UtcNow;
        await using var vacuum =
            owner.CreateCommand("VACUUM ANALYZE workflow_trace, workflow_steps, workflow_events, workflow_trace_context");
        vacuum.CommandTimeout = 0;
        await vacuum.ExecuteNonQueryAsync();
        log.WriteLine(
            $"Removed {removed} runs written by earlier benchmark runs, vacuumed in {(DateTime.UtcNow - started).TotalSeconds:0} s.");
    }

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

        // Bulk load: no triggers (the NOTIFY trigger would queue one notification per event) and no foreign-key
        // checks (the rows are generated consistent); secondary indexes are dropped and rebuilt after the load.
        await Run("setup", """
            SET session_replication_role = replica;
            SET synchronous_commit = off;
            SET maintenance_work_mem = '512MB';
            SET max_parallel_maintenance_workers = 2;
            SELECT ensure_workflow_event_partitions(now() - interval '100 days', now() + interval '3 months');
            """);
        var indexes = new List<(string Name, string Definition)>();
        await using (var find = new NpgsqlCommand("""
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
              FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
             WHERE c.relname = ANY($1) AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
            """, conn) { Parameters = { new() { Value = BulkTables } } })
        await using (var reader = await find.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                // a partitioned table's index reads "ON ONLY": recreated as that, its partitions would get none
                indexes.Add((reader.GetString(0), reader.GetString(1).Replace(" ON ONLY ", " ON ", StringComparison.Ordinal)));
        await Run("drop indexes", string.Concat(indexes.Select(i => $"DROP INDEX {i.Name};\n")));

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
        // r is a deterministic pseudo-random number per run, so that organisation, workflow, channel, status and
        // duration are independent of each other (a plain g % n would tie them together).
        await Run("traces", $"""
            INSERT INTO workflow_trace (org_id, workflow_id, channel, status, external_id, start_time, end_time, error_message,
                                        created_at, updated_at)
            SELECT ('00000000-0000-4000-8000-' || lpad(o::text, 12, '0'))::uuid,
                   ('00000000-0000-4000-9000-' || lpad((o * 10 + 1 + (r / 1000) % 5)::text, 12, '0'))::uuid,
                   (ARRAY['web', 'web', 'voice', 'efax'])[1 + (r / 5000) % 4],
                   s.status, 'EXT-' || g, s.start_time,
                   CASE WHEN s.status IN ('pending', 'active') THEN NULL
                        ELSE s.start_time + (1 + (r / 20000) % 300) * interval '1 second' END,
                   CASE WHEN s.status = 'failed' THEN 'payer portal returned HTTP 503'
                        WHEN s.status = 'timeout' THEN 'no answer within 300 s' END,
                   s.start_time, s.start_time
              FROM generate_series(1, {traces}) g
              CROSS JOIN LATERAL (SELECT 1 + g % {orgs} AS o, abs(hashint8(g)) AS r) x
              CROSS JOIN LATERAL (SELECT
                   CASE WHEN r % 1000 < 20 THEN 'active' WHEN r % 1000 < 30 THEN 'pending' WHEN r % 1000 < 107 THEN 'failed'
                        WHEN r % 1000 < 131 THEN 'timeout' WHEN r % 1000 < 142 THEN 'cancelled' ELSE 'completed' END AS status,
                   now() - (g::double precision / {traces}) * interval '90 days' AS start_time) s;
            """);
        // A failed run stops at its failed step; one completed run in seven had a step that failed once and was
        // retried; open runs have one step still running.
        await Run("steps", """
            INSERT INTO workflow_steps (org_id, trace_id, node_id, step_number, status, retry_count, input_data, output_data, error_message,
                                        start_time, end_time, created_at, updated_at)
            SELECT t.org_id, t.id, n.id, n.position, x.status,
                   CASE WHEN x.last AND t.status = 'failed' THEN 1
                        WHEN x.last AND t.status = 'completed' AND r.r % 7 = 0 THEN 1 ELSE 0 END,
                   jsonb_build_object('member_id', 'M' || t.id, 'attempt', 1),
                   CASE WHEN x.status = 'completed' THEN jsonb_build_object('ok', true, 'code', 200 + n.position) END,
                   CASE WHEN x.status = 'failed' THEN 'payer portal returned HTTP 503' END,
                   t.start_time + n.position * interval '2 seconds',
                   CASE WHEN x.status = 'running' THEN NULL
                        ELSE t.start_time + n.position * interval '2 seconds'
                             + (100 + abs(hashint8(t.id * 16 + n.position)) % (400 * n.position)) * interval '1 millisecond' END,
                   t.start_time, t.start_time
              FROM workflow_trace t
              CROSS JOIN LATERAL (SELECT abs(hashint8(t.id + 7919)) AS r) r
              JOIN workflow_nodes n ON n.workflow_id = t.workflow_id
                   AND n.position <= CASE WHEN t.status IN ('failed', 'active', 'pending') THEN 1 + r.r % 10 ELSE 10 END
              CROSS JOIN LATERAL (SELECT n.position = 1 + r.r % 10 AS last) l
              CROSS JOIN LATERAL (SELECT l.last,
                   CASE WHEN t.status = 'failed' AND l.last THEN 'failed'
                        WHEN t.status IN ('active', 'pending') AND l.last THEN 'running'
                        ELSE 'completed' END AS status) x;
            """);
        await Run("context", """
            INSERT INTO workflow_trace_context (org_id, trace_id, key, value, created_at, updated_at)
            SELECT t.org_id, t.id, k.key,
                   CASE k.key WHEN 'member_id' THEN to_jsonb('M' || t.id)
                              WHEN 'payer' THEN to_jsonb((ARRAY['Aetna', 'Cigna', 'Humana', 'UnitedHealthcare', 'Anthem'])[1 + t.id % 5])
                              ELSE jsonb_build_object('claim', 'CLM-' || t.id, 'amount', (t.id % 5000) + 0.5) END,
                   t.start_time, t.start_time
              FROM workflow_trace t CROSS JOIN (VALUES ('member_id'), ('payer'), ('claim')) k(key);
            """);
        // Per step: started, a failed attempt and its retry where retry_count > 0, and the final state; per run:
        // started and, when finished, the final state.
        await Run("events", """
            INSERT INTO workflow_events (org_id, trace_id, step_id, event_type, event_data, created_at)
            SELECT s.org_id, s.trace_id, s.id, e.event_type, e.event_data, e.created_at
              FROM workflow_steps s
              CROSS JOIN LATERAL (VALUES
                   ('step_started', jsonb_build_object('node_id', s.node_id, 'step_number', s.step_number), s.start_time, true),
                   ('step_failed', jsonb_build_object('error', 'payer portal returned HTTP 503'), s.start_time + interval '50 ms',
                    s.retry_count > 0 AND s.status = 'completed'),
                   ('step_retried', jsonb_build_object('retry_count', 1), s.start_time + interval '60 ms',
                    s.retry_count > 0 AND s.status = 'completed'),
                   ('step_' || s.status, jsonb_build_object('status', s.status), s.end_time, s.end_time IS NOT NULL)
                   ) e(event_type, event_data, created_at, present)
             WHERE e.present
            UNION ALL
            SELECT t.org_id, t.id, NULL, e.event_type, e.event_data, e.created_at
              FROM workflow_trace t
              CROSS JOIN LATERAL (VALUES
                   ('workflow_started', jsonb_build_object('status', 'active', 'channel', t.channel), t.start_time, true),
                   ('workflow_' || t.status, jsonb_build_object('status', t.status), t.end_time, t.end_time IS NOT NULL)
                   ) e(event_type, event_data, created_at, present)
             WHERE e.present;
            """);
        await Run("indexes", string.Concat(indexes.Select(i => i.Definition + ";\n")));
        await Run("reset", "RESET session_replication_role");
        // the load ran without triggers, so the statistics rollups are written from the rows in one pass
        await Run("rollups", "SELECT rebuild_stats_rollups(now() - interval '100 days', now() + interval '1 day')");
        await Run("analyze", "VACUUM ANALYZE");
    }
}
