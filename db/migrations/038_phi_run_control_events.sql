-- The run-control events (migrations 025–027: enqueue, claim, cancel, sweep, re-run) describe state with keys that
-- phi_mask_event did not know, so without phi:read it redacted them (its safe default). They carry no patient data:
-- modes, strategies, who asked (a user id), the worker's name, lease and schedule times, attempts, run ids. They are
-- shown; cancel_reason is free text and follows error_message's rule, as reason does.
CREATE OR REPLACE FUNCTION phi_mask_event(p_data jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_external boolean;
  v_text     boolean;
  v_masked   jsonb;
BEGIN
  IF p_data IS NULL OR phi_read_allowed() THEN
    RETURN p_data;
  END IF;
  IF jsonb_typeof(p_data) <> 'object' THEN
    RETURN '"[REDACTED]"'::jsonb;
  END IF;
  v_external := phi_column_classified('external_id');
  v_text := phi_column_classified('error_message');
  SELECT coalesce(jsonb_object_agg(e.key, CASE
           WHEN e.key IN ('status', 'channel', 'duration_ms', 'retry_count', 'node_id', 'step_number', 'key', 'created',
                          'previous_status',
                          -- run control
                          'mode', 'by', 'requested_by', 'worker_name', 'lease_expires_at', 'priority', 'not_before',
                          'attempt', 'strategy', 'resume_from_step_number', 'rerun_of', 'rerun_trace_id',
                          'from_trace_id') THEN e.value
           WHEN e.value = 'null'::jsonb THEN e.value
           WHEN e.key = 'external_id' AND NOT v_external THEN e.value
           WHEN e.key IN ('error_message', 'previous_error', 'reason', 'cancel_reason') AND NOT v_text THEN e.value
           ELSE '"[REDACTED]"'::jsonb END), '{}')
    INTO v_masked
    FROM jsonb_each(p_data) e;
  RETURN v_masked;
END
$$;
