-- A fixed data set for the GraphQL tests: fixed ids and timestamps, so results and snapshots are stable.
-- Org A has 40 runs with ties in start_time (pairs share a timestamp) and open runs without end_time;
-- org B has 12 runs that org A must never see.
INSERT INTO organizations (id, name, slug) VALUES
  ('aaaaaaaa-0000-4000-8000-000000000001', 'Org A', 'org-a'),
  ('bbbbbbbb-0000-4000-8000-000000000002', 'Org B', 'org-b');
INSERT INTO users (id, org_id, email, display_name, role) VALUES
  ('aaaaaaaa-1111-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000001', 'ops@a.example', 'Ada Ops', 'operator'),
  ('bbbbbbbb-1111-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-000000000002', 'ops@b.example', 'Bo Ops', 'operator');
INSERT INTO workflows (id, org_id, name, description, is_active, created_at, updated_at) VALUES
  ('aaaaaaaa-2222-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000001', 'Eligibility Check', 'Coverage before the visit', true,  '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
  ('aaaaaaaa-2222-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000001', 'Claim Status',      NULL,                        false, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
  ('bbbbbbbb-2222-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-000000000002', 'Eligibility Check', 'Org B copy',                true,  '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
INSERT INTO workflow_nodes (id, org_id, workflow_id, name, node_type, position, created_at, updated_at)
SELECT 100 * w.n + p, w.org_id, w.id, format('%s step %s', w.short, p), (ARRAY['portal_login', 'extract', 'write_back'])[p], p,
       '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'
  FROM (VALUES (1, 'aaaaaaaa-2222-4000-8000-000000000001'::uuid, 'aaaaaaaa-0000-4000-8000-000000000001'::uuid, 'EC'),
               (2, 'aaaaaaaa-2222-4000-8000-000000000002'::uuid, 'aaaaaaaa-0000-4000-8000-000000000001'::uuid, 'CS'),
               (3, 'bbbbbbbb-2222-4000-8000-000000000001'::uuid, 'bbbbbbbb-0000-4000-8000-000000000002'::uuid, 'BEC')) AS w(n, id, org_id, short),
       generate_series(1, 3) p;

-- Runs: id 1..40 for A, 41..52 for B. Pairs (1,2), (3,4), ... share a start_time.
INSERT INTO workflow_trace (id, org_id, workflow_id, channel, status, external_id, config_snapshot, start_time, end_time,
                            error_message, created_by, created_at, updated_at)
SELECT g,
       CASE WHEN g <= 40 THEN 'aaaaaaaa-0000-4000-8000-000000000001'::uuid ELSE 'bbbbbbbb-0000-4000-8000-000000000002'::uuid END,
       CASE WHEN g > 40 THEN 'bbbbbbbb-2222-4000-8000-000000000001'::uuid
            WHEN g % 4 = 0 THEN 'aaaaaaaa-2222-4000-8000-000000000002'::uuid
            ELSE 'aaaaaaaa-2222-4000-8000-000000000001'::uuid END,
       (ARRAY['web', 'voice', 'efax'])[1 + g % 3],
       s.status,
       CASE WHEN g % 5 = 0 THEN NULL ELSE format('EXT-%s', lpad(g::text, 3, '0')) END,
       jsonb_build_object('retry_limit', g % 3),
       s.start_time,
       CASE WHEN s.status IN ('pending', 'active') THEN NULL ELSE s.start_time + (g * 1000) * interval '1 millisecond' END,
       CASE WHEN s.status IN ('failed', 'timeout') THEN format('Payer error %s_%s%%', g, g % 2) END,
       CASE WHEN g <= 40 THEN 'aaaaaaaa-1111-4000-8000-000000000001'::uuid ELSE 'bbbbbbbb-1111-4000-8000-000000000001'::uuid END,
       s.start_time, s.start_time
  FROM generate_series(1, 52) g
  CROSS JOIN LATERAL (SELECT
       (ARRAY['completed', 'completed', 'failed', 'active', 'completed', 'timeout', 'cancelled', 'pending', 'completed', 'failed'])[1 + g % 10] AS status,
       '2026-01-10T00:00:00Z'::timestamptz + ((g + 1) / 2) * interval '1 hour' AS start_time) s;

-- Steps: run g has g % 4 steps on its workflow's nodes; the last step of a failed run failed after one retry.
INSERT INTO workflow_steps (id, org_id, trace_id, node_id, step_number, status, input_data, output_data, error_message,
                            retry_count, start_time, end_time, created_at, updated_at)
SELECT 1000 + t.id * 10 + n, t.org_id, t.id,
       (SELECT wn.id FROM workflow_nodes wn WHERE wn.workflow_id = t.workflow_id AND wn.position = n),
       n,
       CASE WHEN t.status = 'failed' AND n = t.id % 4 THEN 'failed'
            WHEN t.status IN ('active', 'pending') AND n = t.id % 4 THEN 'running'
            ELSE 'completed' END,
       jsonb_build_object('n', n), CASE WHEN t.status <> 'failed' OR n < t.id % 4 THEN jsonb_build_object('ok', true) END,
       CASE WHEN t.status = 'failed' AND n = t.id % 4 THEN 'Portal returned 503' END,
       CASE WHEN t.status = 'failed' AND n = t.id % 4 THEN 1 ELSE 0 END,
       t.start_time + (n - 1) * interval '10 seconds',
       CASE WHEN t.status IN ('active', 'pending') AND n = t.id % 4 THEN NULL
            ELSE t.start_time + (n - 1) * interval '10 seconds' + (n * 500) * interval '1 millisecond' END,
       t.start_time, t.start_time
  FROM workflow_trace t, generate_series(1, 3) n
 WHERE n <= t.id % 4;

INSERT INTO workflow_events (org_id, trace_id, step_id, event_type, event_data, created_at)
SELECT t.org_id, t.id, NULL, 'workflow_started', jsonb_build_object('status', 'active'), t.start_time
  FROM workflow_trace t ORDER BY t.id;
INSERT INTO workflow_events (org_id, trace_id, step_id, event_type, event_data, created_at)
SELECT s.org_id, s.trace_id, s.id, 'step_' || s.status, jsonb_build_object('status', s.status), coalesce(s.end_time, s.start_time)
  FROM workflow_steps s ORDER BY s.id;

INSERT INTO workflow_trace_context (org_id, trace_id, key, value, created_at, updated_at)
SELECT t.org_id, t.id, k.key, k.value, t.start_time, t.start_time
  FROM workflow_trace t
  CROSS JOIN (VALUES ('member', '{"id": "M1"}'::jsonb), ('payer', '"Aetna"'::jsonb)) AS k(key, value)
 WHERE t.id % 3 = 0;

INSERT INTO workflow_configs (id, org_id, workflow_id, channel, config_type, version, name, config, is_active, created_by, created_at, updated_at) VALUES
  ('aaaaaaaa-3333-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000001', NULL, NULL, 'global', 1, 'A defaults', '{"retry_limit": 3}', true, NULL, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
  ('aaaaaaaa-3333-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-2222-4000-8000-000000000001', NULL, 'workflow', 1, 'EC v1', '{"retry_limit": 4}', false, NULL, '2026-01-02T00:00:00Z', '2026-01-02T00:00:00Z'),
  ('aaaaaaaa-3333-4000-8000-000000000003', 'aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-2222-4000-8000-000000000001', NULL, 'workflow', 2, 'EC v2', '{"retry_limit": 5}', true, NULL, '2026-01-03T00:00:00Z', '2026-01-03T00:00:00Z'),
  ('aaaaaaaa-3333-4000-8000-000000000004', 'aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-2222-4000-8000-000000000001', 'voice', 'channel', 1, 'EC voice', '{"retry_limit": 6}', true, NULL, '2026-01-04T00:00:00Z', '2026-01-04T00:00:00Z'),
  ('bbbbbbbb-3333-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-000000000002', NULL, NULL, 'global', 1, 'B defaults', '{"retry_limit": 1}', true, NULL, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
-- config_status rows are written by triggers with now(); pin them for stable snapshots
UPDATE config_status SET activated_at = '2026-01-05T00:00:00Z', created_at = '2026-01-05T00:00:00Z', updated_at = '2026-01-05T00:00:00Z';
INSERT INTO channel_configs (id, org_id, channel, name, config, created_at, updated_at) VALUES
  ('aaaaaaaa-4444-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000001', 'web', 'Portals', '{"browser": "chromium"}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
  ('bbbbbbbb-4444-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-000000000002', 'web', 'Portals', '{"browser": "chromium"}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
UPDATE config_status SET activated_at = '2026-01-05T00:00:00Z', created_at = '2026-01-05T00:00:00Z', updated_at = '2026-01-05T00:00:00Z';
INSERT INTO workflow_channel_configs (id, org_id, workflow_id, channel, is_enabled, priority, webhook_url, created_at, updated_at) VALUES
  ('aaaaaaaa-5555-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-2222-4000-8000-000000000001', 'web', true, 10, 'https://hooks.example.org/a', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
  ('aaaaaaaa-5555-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-2222-4000-8000-000000000001', 'efax', false, 30, NULL, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
UPDATE config_status SET activated_at = '2026-01-05T00:00:00Z', created_at = '2026-01-05T00:00:00Z', updated_at = '2026-01-05T00:00:00Z',
       deactivated_at = CASE WHEN deactivated_at IS NOT NULL THEN '2026-01-05T00:00:00Z'::timestamptz END;
INSERT INTO node_io_requirements (id, org_id, node_id, direction, field_name, field_type, is_required, default_value, created_at, updated_at) VALUES
  ('aaaaaaaa-6666-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000001', 101, 'input', 'member_id', 'string', true, NULL, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
  ('aaaaaaaa-6666-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000001', 102, 'output', 'status', 'string', true, '"unknown"', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
INSERT INTO workflow_data_bindings (id, org_id, workflow_id, source_node_id, source_field, target_node_id, target_field, binding_type, created_at, updated_at) VALUES
  ('aaaaaaaa-7777-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-2222-4000-8000-000000000001', 101, 'session', 102, 'session', 'direct', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');

-- explicit ids above: move the identity sequences past them so new rows (mutations) get fresh ids
SELECT setval(pg_get_serial_sequence('workflow_trace', 'id'), (SELECT max(id) FROM workflow_trace)),
       setval(pg_get_serial_sequence('workflow_steps', 'id'), (SELECT max(id) FROM workflow_steps)),
       setval(pg_get_serial_sequence('workflow_nodes', 'id'), (SELECT max(id) FROM workflow_nodes));
