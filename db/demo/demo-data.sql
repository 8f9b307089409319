-- Demo data for the embedded development cluster: two organisations, their users, three workflows each over the
-- three channels, versioned configurations, and two weeks of runs in every status, written through the helper
-- functions so that every run has its steps, context and events. Runs as the owner, in one transaction.
-- Fixed ids (organisations, users, workflows) so that development tokens and examples can name them.

SELECT ensure_workflow_event_partitions(now() - interval '1 month', now() + interval '3 months');

INSERT INTO organizations (id, name, slug) VALUES
  ('0a000000-0000-4000-8000-000000000001', 'Northwind Health Billing', 'northwind'),
  ('0b000000-0000-4000-8000-000000000002', 'Bluebird Revenue Partners', 'bluebird');

INSERT INTO users (id, org_id, email, display_name, role) VALUES
  ('1a000000-0000-4000-8000-000000000001', '0a000000-0000-4000-8000-000000000001', 'admin@northwind.example',    'Nora Admin',    'admin'),
  ('1a000000-0000-4000-8000-000000000002', '0a000000-0000-4000-8000-000000000001', 'operator@northwind.example', 'Olle Operator', 'operator'),
  ('1a000000-0000-4000-8000-000000000003', '0a000000-0000-4000-8000-000000000001', 'viewer@northwind.example',   'Vera Viewer',   'viewer'),
  ('1b000000-0000-4000-8000-000000000001', '0b000000-0000-4000-8000-000000000002', 'admin@bluebird.example',     'Bo Admin',      'admin'),
  ('1b000000-0000-4000-8000-000000000002', '0b000000-0000-4000-8000-000000000002', 'operator@bluebird.example',  'Pia Operator',  'operator'),
  ('1b000000-0000-4000-8000-000000000003', '0b000000-0000-4000-8000-000000000002', 'viewer@bluebird.example',    'Vik Viewer',    'viewer');

-- Workflows and their nodes, the same shapes in both organisations.
CREATE TEMP TABLE demo_workflow (id uuid, org_id uuid, admin_id uuid, name text, description text, nodes text[][]) ON COMMIT DROP;
INSERT INTO demo_workflow VALUES
  ('2a000000-0000-4000-8000-000000000001', '0a000000-0000-4000-8000-000000000001', '1a000000-0000-4000-8000-000000000001',
   'Eligibility Check', 'Verify coverage with the payer before the visit',
   ARRAY[['Open payer portal', 'portal_login'], ['Search member', 'portal_search'], ['Read benefits', 'extract'], ['Record eligibility', 'write_back']]),
  ('2a000000-0000-4000-8000-000000000002', '0a000000-0000-4000-8000-000000000001', '1a000000-0000-4000-8000-000000000001',
   'Prior Authorization', 'Request and track authorisation for a procedure',
   ARRAY[['Collect clinicals', 'extract'], ['Submit request', 'submit'], ['Await decision', 'wait'], ['Record decision', 'write_back']]),
  ('2a000000-0000-4000-8000-000000000003', '0a000000-0000-4000-8000-000000000001', '1a000000-0000-4000-8000-000000000001',
   'Claim Status', 'Ask the payer where a claim stands',
   ARRAY[['Dial payer', 'voice_call'], ['Navigate IVR', 'ivr'], ['Read status', 'extract'], ['Record status', 'write_back']]),
  ('2b000000-0000-4000-8000-000000000001', '0b000000-0000-4000-8000-000000000002', '1b000000-0000-4000-8000-000000000001',
   'Eligibility Check', 'Verify coverage with the payer before the visit',
   ARRAY[['Open payer portal', 'portal_login'], ['Search member', 'portal_search'], ['Read benefits', 'extract'], ['Record eligibility', 'write_back']]),
  ('2b000000-0000-4000-8000-000000000002', '0b000000-0000-4000-8000-000000000002', '1b000000-0000-4000-8000-000000000001',
   'Prior Authorization', 'Request and track authorisation for a procedure',
   ARRAY[['Collect clinicals', 'extract'], ['Submit request', 'submit'], ['Await decision', 'wait'], ['Record decision', 'write_back']]),
  ('2b000000-0000-4000-8000-000000000003', '0b000000-0000-4000-8000-000000000002', '1b000000-0000-4000-8000-000000000001',
   'Claim Status', 'Ask the payer where a claim stands',
   ARRAY[['Dial payer', 'voice_call'], ['Navigate IVR', 'ivr'], ['Read status', 'extract'], ['Record status', 'write_back']]);

INSERT INTO workflows (id, org_id, name, description, created_by)
SELECT id, org_id, name, description, admin_id FROM demo_workflow;

INSERT INTO workflow_nodes (org_id, workflow_id, name, node_type, position)
SELECT w.org_id, w.id, w.nodes[i][1], w.nodes[i][2], i
  FROM demo_workflow w, generate_series(1, 4) i;

INSERT INTO node_io_requirements (org_id, node_id, direction, field_name, field_type, is_required, default_value, validation_rules, description)
SELECT n.org_id, n.id, r.direction, r.field_name, r.field_type, r.is_required, r.default_value, r.validation_rules, r.description
  FROM workflow_nodes n
  JOIN (VALUES
    ('portal_search', 'input',  'member_id',     'string',  true,  NULL::jsonb, '{"pattern": "^[A-Z0-9]{6,12}$"}'::jsonb, 'Payer member id'),
    ('portal_search', 'input',  'date_of_birth', 'string',  true,  NULL,        '{"format": "date"}',                    'Patient date of birth'),
    ('extract',       'output', 'status',        'string',  true,  NULL,        '{"enum": ["active", "inactive", "pending", "denied", "paid"]}', 'What the payer reported'),
    ('voice_call',    'input',  'phone_number',  'string',  true,  NULL,        '{"pattern": "^\\+?[0-9]{10,15}$"}',     'Payer phone line'),
    ('voice_call',    'input',  'max_wait_s',    'integer', false, '600',       '{"minimum": 30, "maximum": 3600}',      'Give up after this hold time'),
    ('submit',        'output', 'reference',     'string',  true,  NULL,        '{}',                                    'Payer reference number')
  ) AS r(node_type, direction, field_name, field_type, is_required, default_value, validation_rules, description)
    ON r.node_type = n.node_type;

-- each node feeds the next one
INSERT INTO workflow_data_bindings (org_id, workflow_id, source_node_id, source_field, target_node_id, target_field, binding_type, transform_config)
SELECT a.org_id, a.workflow_id, a.id, 'result', b.id, 'previous_result',
       CASE WHEN b.node_type = 'write_back' THEN 'transform' ELSE 'direct' END,
       CASE WHEN b.node_type = 'write_back' THEN '{"jsonpath": "$.status"}'::jsonb ELSE '{}'::jsonb END
  FROM workflow_nodes a
  JOIN workflow_nodes b ON b.workflow_id = a.workflow_id AND b.position = a.position + 1;

INSERT INTO channel_configs (org_id, channel, name, config, created_by)
SELECT o.id, c.channel, c.name, c.config, u.id
  FROM organizations o
  JOIN users u ON u.org_id = o.id AND u.role = 'admin'
  CROSS JOIN (VALUES
    ('web',   'Portal automation', '{"browser": "chromium", "concurrency": 4, "timeout_s": 120}'::jsonb),
    ('voice', 'Payer phone calls', '{"caller_id": "+15550100", "max_hold_s": 1800, "transcribe": true}'::jsonb),
    ('efax',  'Electronic fax',    '{"provider": "fax-gateway", "retry_minutes": 15, "cover_page": true}'::jsonb)
  ) AS c(channel, name, config);

INSERT INTO workflow_channel_configs (org_id, workflow_id, channel, is_enabled, priority, webhook_url, settings, created_by)
SELECT w.org_id, w.id, c.channel, c.channel <> 'efax' OR w.name = 'Prior Authorization', c.priority,
       CASE WHEN c.channel = 'web' THEN 'https://hooks.example.org/workflowgraph/' || w.id END,
       jsonb_build_object('max_parallel_runs', c.priority / 10), w.admin_id
  FROM demo_workflow w
  CROSS JOIN (VALUES ('web', 10), ('voice', 20), ('efax', 30)) AS c(channel, priority);

-- Versioned configurations: a global default, two versions per workflow (the second active), and a voice
-- override for claim status.
SELECT set_config('app.current_user_id', '1a000000-0000-4000-8000-000000000001', true);
INSERT INTO workflow_configs (org_id, config_type, version, name, config, is_active, created_by)
SELECT o.id, 'global', 1, 'Organisation defaults', '{"retry_limit": 3, "business_hours": "08:00-18:00"}', true, u.id
  FROM organizations o JOIN users u ON u.org_id = o.id AND u.role = 'admin';
INSERT INTO workflow_configs (org_id, workflow_id, config_type, version, name, config, is_active, created_by)
SELECT w.org_id, w.id, 'workflow', v, format('%s v%s', w.name, v),
       jsonb_build_object('retry_limit', 2 + v, 'step_timeout_s', 60 * v), v = 2, w.admin_id
  FROM demo_workflow w, generate_series(1, 2) v;
INSERT INTO workflow_configs (org_id, workflow_id, channel, config_type, version, name, config, is_active, created_by)
SELECT w.org_id, w.id, 'voice', 'channel', 1, 'Claim status by phone',
       '{"retry_limit": 5, "step_timeout_s": 900, "ivr_language": "en-US"}', true, w.admin_id
  FROM demo_workflow w WHERE w.name = 'Claim Status';

-- Runs: 36 per workflow, every status, through the helper functions.
DO $$
DECLARE
  w          record;
  n          integer;
  v_trace    bigint;
  v_step     bigint;
  v_node     integer;
  v_channel  text;
  v_fate     text;
  v_steps    integer;
  i          integer;
BEGIN
  FOR w IN SELECT d.*, (SELECT u.id FROM users u WHERE u.org_id = d.org_id AND u.role = 'operator') AS operator_id
             FROM demo_workflow d ORDER BY d.id
  LOOP
    PERFORM set_config('app.current_user_id', w.operator_id::text, true);
    FOR n IN 1..36 LOOP
      v_channel := CASE WHEN w.name = 'Prior Authorization' THEN (ARRAY['web', 'voice', 'efax'])[1 + n % 3]
                        ELSE (ARRAY['web', 'voice'])[1 + n % 2] END;
      -- mostly completed, a tail of failures, some still running, one of each other ending
      v_fate := CASE WHEN n = 36 THEN 'active' WHEN n = 35 THEN 'cancelled' WHEN n = 34 THEN 'pending'
                     WHEN n % 12 = 0 THEN 'failed' WHEN n % 17 = 0 THEN 'timeout' ELSE 'completed' END;
      IF v_fate = 'pending' THEN
        INSERT INTO workflow_trace (org_id, workflow_id, channel, status, external_id, created_by)
        VALUES (w.org_id, w.id, v_channel, 'pending', format('DEMO-%s-%s', left(w.id::text, 2), n), w.operator_id);
        CONTINUE;
      END IF;
      v_trace := start_workflow_execution(w.id, v_channel, format('DEMO-%s-%s', left(w.id::text, 2), n), NULL, w.operator_id);
      PERFORM set_workflow_context(v_trace, 'patient', jsonb_build_object('member_id', 'MBR' || lpad((n * 7919 % 9999999)::text, 7, '0'), 'payer', (ARRAY['Aetna', 'Cigna', 'Humana', 'UnitedHealthcare'])[1 + n % 4]));
      v_steps := CASE v_fate WHEN 'completed' THEN 4 WHEN 'active' THEN 2 ELSE 1 + n % 3 END;
      FOR i IN 1..v_steps LOOP
        SELECT id INTO v_node FROM workflow_nodes WHERE workflow_id = w.id AND position = i;
        -- inputs and outputs satisfy the nodes' requirements (validate_node_io)
        v_step := start_workflow_step(v_trace, v_node, i, jsonb_build_object(
          'run', n, 'member_id', 'MBR' || lpad((n * 7919 % 9999999)::text, 7, '0'), 'date_of_birth', '1980-01-01',
          'phone_number', '+15550100100'));
        IF v_fate = 'active' AND i = v_steps THEN
          EXIT;  -- still running
        ELSIF i = v_steps AND v_fate IN ('failed', 'timeout') THEN
          PERFORM complete_workflow_step(v_step, v_fate::step_status, NULL,
                                         CASE v_fate WHEN 'failed' THEN 'Payer portal returned HTTP 503' ELSE 'No answer within the hold limit' END);
        ELSIF i = 2 AND n % 5 = 0 THEN
          -- a transient failure that a retry fixes
          PERFORM complete_workflow_step(v_step, 'failed', NULL, 'Session expired');
          PERFORM retry_workflow_step(v_step);
          PERFORM complete_workflow_step(v_step, 'completed', jsonb_build_object('result', 'ok', 'status', 'active', 'reference', 'REF-' || n, 'attempts', 2));
        ELSE
          PERFORM complete_workflow_step(v_step, 'completed', jsonb_build_object('result', 'ok', 'status', 'active', 'reference', 'REF-' || n));
        END IF;
      END LOOP;
      IF v_fate NOT IN ('active') THEN
        PERFORM complete_workflow_execution(v_trace, v_fate::trace_status,
                                            CASE WHEN v_fate <> 'completed' THEN 'Run ended as ' || v_fate END);
      END IF;
    END LOOP;
  END LOOP;
END
$$;

-- The functions stamp everything "now"; spread the runs over the last two weeks with realistic durations
-- (voice calls are slow, portals quick), keeping every run's steps and events in order.
CREATE TEMP TABLE demo_shift ON COMMIT DROP AS
SELECT t.id AS trace_id,
       now() - (t.id % 14) * interval '1 day' - (t.id * 37 % 600) * interval '1 minute' - interval '1 hour' AS new_start,
       CASE t.channel WHEN 'voice' THEN 240000 WHEN 'efax' THEN 90000 ELSE 15000 END AS step_ms
  FROM workflow_trace t;

CREATE TEMP TABLE demo_step_time ON COMMIT DROP AS
SELECT s.id AS step_id, s.trace_id,
       d.new_start + ((s.step_number - 1) * d.step_ms + 500) * interval '1 millisecond' AS new_start,
       d.new_start + ((s.step_number - 1) * d.step_ms + 500 + d.step_ms * (0.4 + (s.id % 7) / 10.0)) * interval '1 millisecond' AS new_end
  FROM workflow_steps s JOIN demo_shift d ON d.trace_id = s.trace_id;

UPDATE workflow_steps s
   SET start_time = st.new_start,
       end_time = CASE WHEN s.end_time IS NOT NULL THEN st.new_end END
  FROM demo_step_time st WHERE st.step_id = s.id;

UPDATE workflow_trace t
   SET start_time = d.new_start,
       end_time = CASE WHEN t.end_time IS NOT NULL THEN
                    greatest(d.new_start, (SELECT max(s.end_time) FROM workflow_steps s WHERE s.trace_id = t.id)) + interval '800 milliseconds'
                  END
  FROM demo_shift d WHERE d.trace_id = t.id;

UPDATE workflow_events e
   SET created_at = CASE e.event_type
                      WHEN 'workflow_started' THEN t.start_time
                      WHEN 'context_set' THEN t.start_time + interval '100 milliseconds'
                      ELSE coalesce(t.end_time, t.start_time) END
  FROM workflow_trace t
 WHERE t.id = e.trace_id AND e.step_id IS NULL;

UPDATE workflow_events e
   SET created_at = CASE WHEN e.event_type IN ('step_started', 'step_retried') THEN st.new_start
                         ELSE coalesce(st.new_end, st.new_start) END
  FROM demo_step_time st
 WHERE st.step_id = e.step_id;
