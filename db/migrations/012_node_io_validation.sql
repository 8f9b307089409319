-- Node input/output contracts are enforced where steps are written: start_workflow_step checks the input
-- against the node's 'input' requirements, complete_workflow_step checks a completed step's output against its
-- 'output' requirements. Defaults are filled in; every offending field is reported at once (WF003, with the
-- list as JSON in DETAIL), and nothing is written.

-- Returns p_data with defaults filled in, or raises WF003 naming each offending field.
-- Rules (validation_rules): pattern, enum, minimum, maximum, minLength, maxLength, format = 'date'.
CREATE FUNCTION validate_node_io(p_node_id integer, p_direction text, p_data jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
AS $$
DECLARE
  r          node_io_requirements%ROWTYPE;
  v_data     jsonb := p_data;
  v_value    jsonb;
  v_kind     text;
  v_rules    jsonb;
  v_problems jsonb := '[]';
  v_problem  text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM node_io_requirements WHERE node_id = p_node_id AND direction = p_direction) THEN
    RETURN p_data;
  END IF;
  IF v_data IS NULL OR jsonb_typeof(v_data) = 'null' THEN
    v_data := '{}';
  ELSIF jsonb_typeof(v_data) <> 'object' THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003',
      MESSAGE = format('node %s %s must be a JSON object', p_node_id, p_direction),
      DETAIL = jsonb_build_array(jsonb_build_object('field', p_direction, 'message', 'must be a JSON object'))::text;
  END IF;

  FOR r IN SELECT * FROM node_io_requirements WHERE node_id = p_node_id AND direction = p_direction ORDER BY field_name LOOP
    v_value := v_data -> r.field_name;
    v_problem := NULL;
    IF v_value IS NULL OR jsonb_typeof(v_value) = 'null' THEN
      IF r.default_value IS NOT NULL THEN
        v_data := jsonb_set(v_data, ARRAY[r.field_name], r.default_value);
      ELSIF r.is_required THEN
        v_problem := 'is required';
      END IF;
    ELSE
      v_kind := jsonb_typeof(v_value);
      v_rules := r.validation_rules;
      IF r.field_type <> 'any' AND NOT (v_kind = r.field_type
             OR (r.field_type = 'integer' AND v_kind = 'number' AND (v_value #>> '{}')::numeric % 1 = 0)) THEN
        v_problem := format('must be of type %s, got %s', r.field_type, v_kind);
      ELSIF v_rules ? 'enum' AND NOT (v_rules -> 'enum') @> jsonb_build_array(v_value) THEN
        v_problem := format('must be one of %s', v_rules -> 'enum');
      ELSIF v_kind = 'string' AND v_rules ? 'pattern' AND NOT (v_value #>> '{}') ~ (v_rules ->> 'pattern') THEN
        v_problem := format('must match %s', v_rules ->> 'pattern');
      ELSIF v_kind = 'string' AND v_rules ? 'minLength' AND length(v_value #>> '{}') < (v_rules ->> 'minLength')::int THEN
        v_problem := format('must be at least %s characters', v_rules ->> 'minLength');
      ELSIF v_kind = 'string' AND v_rules ? 'maxLength' AND length(v_value #>> '{}') > (v_rules ->> 'maxLength')::int THEN
        v_problem := format('must be at most %s characters', v_rules ->> 'maxLength');
      ELSIF v_kind = 'number' AND v_rules ? 'minimum' AND (v_value #>> '{}')::numeric < (v_rules ->> 'minimum')::numeric THEN
        v_problem := format('must be at least %s', v_rules ->> 'minimum');
      ELSIF v_kind = 'number' AND v_rules ? 'maximum' AND (v_value #>> '{}')::numeric > (v_rules ->> 'maximum')::numeric THEN
        v_problem := format('must be at most %s', v_rules ->> 'maximum');
      ELSIF v_kind = 'string' AND v_rules ->> 'format' = 'date' AND NOT is_iso_date(v_value #>> '{}') THEN
        v_problem := 'must be a date (YYYY-MM-DD)';
      END IF;
    END IF;
    IF v_problem IS NOT NULL THEN
      v_problems := v_problems || jsonb_build_object('field', r.field_name, 'message', v_problem);
    END IF;
  END LOOP;

  IF jsonb_array_length(v_problems) > 0 THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003',
      MESSAGE = format('node %s %s is invalid: %s', p_node_id, p_direction,
                       (SELECT string_agg(p ->> 'field' || ' ' || (p ->> 'message'), '; ') FROM jsonb_array_elements(v_problems) p)),
      DETAIL = v_problems::text;
  END IF;
  RETURN v_data;
END
$$;

CREATE FUNCTION is_iso_date(p_text text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, public
AS $$
BEGIN
  RETURN p_text ~ '^\d{4}-\d{2}-\d{2}$' AND to_char(p_text::date, 'YYYY-MM-DD') = p_text;
EXCEPTION WHEN OTHERS THEN
  RETURN false;
END
$$;

GRANT EXECUTE ON FUNCTION validate_node_io(integer, text, jsonb), is_iso_date(text) TO workflowgraph_app;

-- start_workflow_step as in 008, with the input checked (and defaults filled) before anything is written.
CREATE OR REPLACE FUNCTION start_workflow_step(
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
  v_input    jsonb;
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
  v_input := validate_node_io(p_node_id, 'input', p_input_data);

  IF v_trace.status = 'pending' THEN
    UPDATE workflow_trace SET status = 'active' WHERE id = p_trace_id;
    INSERT INTO workflow_events (org_id, trace_id, event_type, event_data)
    VALUES (v_trace.org_id, p_trace_id, 'workflow_started', jsonb_build_object('status', 'active', 'channel', v_trace.channel));
  END IF;

  INSERT INTO workflow_steps (org_id, trace_id, node_id, step_number, status, input_data, start_time)
  VALUES (v_trace.org_id, p_trace_id, p_node_id, p_step_number, 'running', v_input, clock_timestamp())
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

-- complete_workflow_step as in 008, with a completed step's output checked (and defaults filled).
CREATE OR REPLACE FUNCTION complete_workflow_step(
  p_step_id       bigint,
  p_status        step_status,
  p_output_data   jsonb DEFAULT NULL,
  p_error_message text DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_step    workflow_steps%ROWTYPE;
  v_output  jsonb := p_output_data;
BEGIN
  IF p_step_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'step_id must not be null';
  END IF;
  IF p_status IS NULL OR p_status NOT IN ('completed', 'failed', 'skipped', 'cancelled', 'timeout') THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003',
      MESSAGE = format('status %s is not a final step status (completed, failed, skipped, cancelled, timeout)',
                       coalesce(p_status, 'NULL'));
  END IF;

  SELECT * INTO v_step FROM workflow_steps WHERE id = p_step_id FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'WF001', MESSAGE = format('step %s not found', p_step_id);
  END IF;
  IF v_step.status NOT IN ('pending', 'running') THEN
    RAISE EXCEPTION USING ERRCODE = 'WF002', MESSAGE = format('step %s is already %s', p_step_id, v_step.status);
  END IF;
  IF p_status = 'completed' THEN
    v_output := validate_node_io(v_step.node_id, 'output', p_output_data);
  END IF;

  UPDATE workflow_steps
     SET status = p_status, output_data = v_output, error_message = p_error_message,
         end_time = greatest(clock_timestamp(), start_time)
   WHERE id = p_step_id
  RETURNING * INTO v_step;

  INSERT INTO workflow_events (org_id, trace_id, step_id, event_type, event_data)
  VALUES (v_step.org_id, v_step.trace_id, p_step_id, 'step_' || p_status,
          jsonb_build_object('status', p_status, 'duration_ms', v_step.duration_ms,
                             'retry_count', v_step.retry_count, 'error_message', p_error_message));
END
$$;
