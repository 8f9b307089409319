-- Execution helpers: the only place where run/step state changes are decided. Each one writes its
-- workflow_events row in the same transaction. They run as the caller (SECURITY INVOKER), so RLS confines them:
-- another organisation's id is simply "not found".
--
-- Errors (SQLSTATE class WF, see db/CONVENTIONS.md):
--   WF001 not found   WF002 illegal state transition   WF003 invalid argument   WF004 duplicate
-- Locks are always taken trace first, then step, so concurrent callers cannot deadlock.

CREATE FUNCTION start_workflow_execution(
  p_workflow_id     uuid,
  p_channel         workflow_channel,
  p_external_id     text DEFAULT NULL,
  p_config_snapshot jsonb DEFAULT NULL,
  p_created_by      uuid DEFAULT NULL
) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_workflow  workflows%ROWTYPE;
  v_enabled   boolean;
  v_snapshot  jsonb := p_config_snapshot;
  v_trace_id  bigint;
BEGIN
  IF p_workflow_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'workflow_id must not be null';
  END IF;
  IF p_channel IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'channel must not be null';
  END IF;
  IF p_external_id IS NOT NULL AND (length(btrim(p_external_id)) = 0 OR length(p_external_id) > 200) THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'external_id must be 1 to 200 characters and not blank';
  END IF;

  SELECT * INTO v_workflow FROM workflows WHERE id = p_workflow_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'WF001', MESSAGE = format('workflow %s not found', p_workflow_id);
  END IF;
  IF NOT v_workflow.is_active THEN
    RAISE EXCEPTION USING ERRCODE = 'WF002', MESSAGE = format('workflow %s is not active', p_workflow_id);
  END IF;
  SELECT is_enabled INTO v_enabled
    FROM workflow_channel_configs WHERE workflow_id = p_workflow_id AND channel = p_channel;
  IF v_enabled IS FALSE THEN
    RAISE EXCEPTION USING ERRCODE = 'WF002',
      MESSAGE = format('channel %s is disabled for workflow %s', p_channel, p_workflow_id);
  END IF;

  -- idempotent start: the same external id returns the run that already exists
  IF p_external_id IS NOT NULL THEN
    SELECT id INTO v_trace_id FROM workflow_trace
     WHERE org_id = v_workflow.org_id AND workflow_id = p_workflow_id AND external_id = p_external_id;
    IF FOUND THEN
      RETURN v_trace_id;
    END IF;
  END IF;

  IF v_snapshot IS NULL THEN
    SELECT jsonb_build_object('config_id', c.id, 'version', c.version, 'config_type', c.config_type,
                              'channel', c.channel, 'config', c.config)
      INTO v_snapshot
      FROM get_active_workflow_config(p_workflow_id, p_channel) c;
  END IF;

  INSERT INTO workflow_trace (org_id, workflow_id, channel, status, external_id, config_snapshot, start_time, created_by)
  VALUES (v_workflow.org_id, p_workflow_id, p_channel, 'active', p_external_id, v_snapshot, clock_timestamp(),
          coalesce(p_created_by, app_current_user_id()))
  ON CONFLICT (org_id, workflow_id, external_id) WHERE external_id IS NOT NULL DO NOTHING
  RETURNING id INTO v_trace_id;

  IF v_trace_id IS NULL THEN
    -- a concurrent start with the same external id committed first
    SELECT id INTO STRICT v_trace_id FROM workflow_trace
     WHERE org_id = v_workflow.org_id AND workflow_id = p_workflow_id AND external_id = p_external_id;
    RETURN v_trace_id;
  END IF;

  INSERT INTO workflow_events (org_id, trace_id, event_type, event_data)
  VALUES (v_workflow.org_id, v_trace_id, 'workflow_started',
          jsonb_build_object('status', 'active', 'channel', p_channel, 'external_id', p_external_id));
  RETURN v_trace_id;
END
$$;

CREATE FUNCTION complete_workflow_execution(
  p_trace_id      bigint,
  p_status        trace_status,
  p_error_message text DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_trace  workflow_trace%ROWTYPE;
  v_open   integer;
  v_now    timestamptz := clock_timestamp();
BEGIN
  IF p_trace_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'trace_id must not be null';
  END IF;
  IF p_status IS NULL OR p_status NOT IN ('completed', 'failed', 'cancelled', 'timeout') THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003',
      MESSAGE = format('status %s is not a final run status (completed, failed, cancelled, timeout)',
                       coalesce(p_status, 'NULL'));
  END IF;

  SELECT * INTO v_trace FROM workflow_trace WHERE id = p_trace_id FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'WF001', MESSAGE = format('trace %s not found', p_trace_id);
  END IF;
  IF v_trace.status NOT IN ('pending', 'active') THEN
    RAISE EXCEPTION USING ERRCODE = 'WF002',
      MESSAGE = format('trace %s is already %s', p_trace_id, v_trace.status);
  END IF;

  IF p_status = 'completed' THEN
    SELECT count(*) INTO v_open FROM workflow_steps
     WHERE trace_id = p_trace_id AND status IN ('pending', 'running');
    IF v_open > 0 THEN
      RAISE EXCEPTION USING ERRCODE = 'WF002',
        MESSAGE = format('trace %s still has %s unfinished step(s); complete them or end the run as failed or cancelled',
                         p_trace_id, v_open);
    END IF;
  ELSE
    -- open steps end with the run
    WITH cancelled AS (
      UPDATE workflow_steps
         SET status = 'cancelled', end_time = greatest(v_now, start_time),
             error_message = coalesce(error_message, format('run ended as %s', p_status))
       WHERE trace_id = p_trace_id AND status IN ('pending', 'running')
      RETURNING id
    )
    INSERT INTO workflow_events (org_id, trace_id, step_id, event_type, event_data)
    SELECT v_trace.org_id, p_trace_id, id, 'step_cancelled', jsonb_build_object('status', 'cancelled', 'reason', 'run ' || p_status)
      FROM cancelled;
  END IF;

  UPDATE workflow_trace
     SET status = p_status, end_time = greatest(v_now, start_time), error_message = p_error_message
   WHERE id = p_trace_id
  RETURNING * INTO v_trace;

  INSERT INTO workflow_events (org_id, trace_id, event_type, event_data)
  VALUES (v_trace.org_id, p_trace_id, 'workflow_' || p_status,
          jsonb_build_object('status', p_status, 'duration_ms', v_trace.duration_ms, 'error_message', p_error_message));
END
$$;

CREATE FUNCTION start_workflow_step(
  p_trace_id    bigint,
  p_node_id     integer,
  p_step_number integer,
  p_input_data  jsonb DEFAULT NULL
) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_trace    workflow_trace%ROWTYPE;
  v_step_id  bigint;
BEGIN
  IF p_trace_id IS NULL OR p_node_id IS NULL OR p_step_number IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'trace_id, node_id and step_number must not be null';
  END IF;
  IF p_step_number < 1 THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = format('step_number must be positive, got %s', p_step_number);
  END IF;

  SELECT * INTO v_trace FROM workflow_trace WHERE id = p_trace_id FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'WF001', MESSAGE = format('trace %s not found', p_trace_id);
  END IF;
  IF v_trace.status NOT IN ('pending', 'active') THEN
    RAISE EXCEPTION USING ERRCODE = 'WF002',
      MESSAGE = format('trace %s is %s; no step can start on a finished run', p_trace_id, v_trace.status);
  END IF;
  PERFORM 1 FROM workflow_nodes WHERE id = p_node_id AND workflow_id = v_trace.workflow_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'WF001',
      MESSAGE = format('node %s not found in workflow %s', p_node_id, v_trace.workflow_id);
  END IF;

  IF v_trace.status = 'pending' THEN
    UPDATE workflow_trace SET status = 'active' WHERE id = p_trace_id;
    INSERT INTO workflow_events (org_id, trace_id, event_type, event_data)
    VALUES (v_trace.org_id, p_trace_id, 'workflow_started', jsonb_build_object('status', 'active', 'channel', v_trace.channel));
  END IF;

  INSERT INTO workflow_steps (org_id, trace_id, node_id, step_number, status, input_data, start_time)
  VALUES (v_trace.org_id, p_trace_id, p_node_id, p_step_number, 'running', p_input_data, clock_timestamp())
  ON CONFLICT (trace_id, step_number) DO NOTHING
  RETURNING id INTO v_step_id;
  IF v_step_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF004',
      MESSAGE = format('trace %s already has a step number %s', p_trace_id, p_step_number);
  END IF;

  INSERT INTO workflow_events (org_id, trace_id, step_id, event_type, event_data)
  VALUES (v_trace.org_id, p_trace_id, v_step_id, 'step_started',
          jsonb_build_object('status', 'running', 'node_id', p_node_id, 'step_number', p_step_number));
  RETURN v_step_id;
END
$$;

CREATE FUNCTION complete_workflow_step(
  p_step_id       bigint,
  p_status        step_status,
  p_output_data   jsonb DEFAULT NULL,
  p_error_message text DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_step  workflow_steps%ROWTYPE;
BEGIN
  IF p_step_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'step_id must not be null';
  END IF;
  IF p_status IS NULL OR p_status NOT IN ('completed', 'failed', 'skipped', 'cancelled', 'timeout') THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003',
      MESSAGE = format('status %s is not a final step status (completed, failed, skipped, cancelled, timeout)',
                       coalesce(p_status, 'NULL'));
  END IF;

  -- a run that ends cancels its open steps under the trace lock, so an open step always belongs to an open run
  SELECT * INTO v_step FROM workflow_steps WHERE id = p_step_id FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'WF001', MESSAGE = format('step %s not found', p_step_id);
  END IF;
  IF v_step.status NOT IN ('pending', 'running') THEN
    RAISE EXCEPTION USING ERRCODE = 'WF002', MESSAGE = format('step %s is already %s', p_step_id, v_step.status);
  END IF;

  UPDATE workflow_steps
     SET status = p_status, output_data = p_output_data, error_message = p_error_message,
         end_time = greatest(clock_timestamp(), start_time)
   WHERE id = p_step_id
  RETURNING * INTO v_step;

  INSERT INTO workflow_events (org_id, trace_id, step_id, event_type, event_data)
  VALUES (v_step.org_id, v_step.trace_id, p_step_id, 'step_' || p_status,
          jsonb_build_object('status', p_status, 'duration_ms', v_step.duration_ms,
                             'retry_count', v_step.retry_count, 'error_message', p_error_message));
END
$$;

CREATE FUNCTION retry_workflow_step(p_step_id bigint) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_trace_id     bigint;
  v_trace_status text;
  v_step         workflow_steps%ROWTYPE;
  v_previous     workflow_steps%ROWTYPE;
BEGIN
  IF p_step_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'step_id must not be null';
  END IF;
  SELECT trace_id INTO v_trace_id FROM workflow_steps WHERE id = p_step_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'WF001', MESSAGE = format('step %s not found', p_step_id);
  END IF;
  -- trace first (shared: retries of sibling steps may run together, but not beside the run ending)
  SELECT status INTO v_trace_status FROM workflow_trace WHERE id = v_trace_id FOR SHARE;
  SELECT * INTO v_previous FROM workflow_steps WHERE id = p_step_id FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'WF001', MESSAGE = format('step %s not found', p_step_id);
  END IF;

  IF v_previous.status NOT IN ('failed', 'timeout') THEN
    RAISE EXCEPTION USING ERRCODE = 'WF002',
      MESSAGE = format('step %s is %s; only failed or timed-out steps can be retried', p_step_id, v_previous.status);
  END IF;
  IF v_trace_status NOT IN ('pending', 'active') THEN
    RAISE EXCEPTION USING ERRCODE = 'WF002',
      MESSAGE = format('trace %s is %s; no step can be retried on a finished run', v_trace_id, v_trace_status);
  END IF;

  UPDATE workflow_steps
     SET status = 'running', retry_count = retry_count + 1, output_data = NULL, error_message = NULL,
         start_time = clock_timestamp(), end_time = NULL
   WHERE id = p_step_id
  RETURNING * INTO v_step;

  INSERT INTO workflow_events (org_id, trace_id, step_id, event_type, event_data)
  VALUES (v_step.org_id, v_step.trace_id, p_step_id, 'step_retried',
          jsonb_build_object('status', 'running', 'retry_count', v_step.retry_count,
                             'previous_status', v_previous.status, 'previous_error', v_previous.error_message,
                             'previous_duration_ms', v_previous.duration_ms));
  RETURN p_step_id;
END
$$;

CREATE FUNCTION set_workflow_context(p_trace_id bigint, p_key text, p_value jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_trace    workflow_trace%ROWTYPE;
  v_inserted boolean;
BEGIN
  IF p_trace_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'trace_id must not be null';
  END IF;
  IF p_key IS NULL OR length(p_key) NOT BETWEEN 1 AND 200 THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'key must be 1 to 200 characters';
  END IF;
  SELECT * INTO v_trace FROM workflow_trace WHERE id = p_trace_id FOR SHARE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'WF001', MESSAGE = format('trace %s not found', p_trace_id);
  END IF;
  IF v_trace.status NOT IN ('pending', 'active') THEN
    RAISE EXCEPTION USING ERRCODE = 'WF002',
      MESSAGE = format('trace %s is %s; the context of a finished run cannot change', p_trace_id, v_trace.status);
  END IF;

  -- SQL NULL is stored as JSON null: the key exists, its value is null
  INSERT INTO workflow_trace_context AS c (org_id, trace_id, key, value)
  VALUES (v_trace.org_id, p_trace_id, p_key, coalesce(p_value, 'null'::jsonb))
  ON CONFLICT (trace_id, key) DO UPDATE SET value = EXCLUDED.value
  RETURNING (c.xmax = 0) INTO v_inserted;

  INSERT INTO workflow_events (org_id, trace_id, event_type, event_data)
  VALUES (v_trace.org_id, p_trace_id, 'context_set', jsonb_build_object('key', p_key, 'created', v_inserted));
END
$$;

CREATE FUNCTION get_workflow_context(p_trace_id bigint, p_key text DEFAULT NULL)
RETURNS TABLE (key text, value jsonb, created_at timestamptz, updated_at timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
AS $$
#variable_conflict use_column
BEGIN
  IF p_trace_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'trace_id must not be null';
  END IF;
  PERFORM 1 FROM workflow_trace t WHERE t.id = p_trace_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'WF001', MESSAGE = format('trace %s not found', p_trace_id);
  END IF;
  RETURN QUERY
    SELECT c.key, c.value, c.created_at, c.updated_at
      FROM workflow_trace_context c
     WHERE c.trace_id = p_trace_id AND (p_key IS NULL OR c.key = p_key)
     ORDER BY c.key;
END
$$;

GRANT EXECUTE ON FUNCTION
  start_workflow_execution(uuid, workflow_channel, text, jsonb, uuid),
  complete_workflow_execution(bigint, trace_status, text),
  start_workflow_step(bigint, integer, integer, jsonb),
  complete_workflow_step(bigint, step_status, jsonb, text),
  retry_workflow_step(bigint),
  set_workflow_context(bigint, text, jsonb),
  get_workflow_context(bigint, text)
  TO workflowgraph_app;
