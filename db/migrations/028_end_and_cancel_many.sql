-- Ending and cancelling many runs in one statement each, for bulk cancels (029): end_workflow_runs and
-- cancel_workflow_executions are the set forms of end_workflow_run and of cancel_workflow_execution's writes (025),
-- and the single forms now call them with one run, so the rules and the events stay in one place. A run per call
-- costs a dozen statements (two updates of the run, each maintaining every index, and an event insert); a set costs
-- the same dozen for hundreds of runs. Statement order is kept: the runs' update (whose AFTER triggers, e.g. the retry
-- policy, fire at its end) comes before their events' insert, as before.

-- Ends open runs as p_status with their open steps: one event per step and one per run (event_data merged with
-- p_event_data). With p_cancel_reason the runs also record the cancel (cancel_requested_at, cancel_reason, each kept
-- when already set) in the same update. The caller holds the runs' locks and has checked the transition.
CREATE FUNCTION end_workflow_runs(p_trace_ids bigint[], p_status trace_status, p_error_message text, p_event_data jsonb,
                                  p_cancel_reason text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_now        timestamptz := clock_timestamp();
  v_ids        bigint[];
  v_orgs       uuid[];
  v_durations  bigint[];
BEGIN
  WITH ended AS (
    UPDATE workflow_steps
       SET status = p_status::text, end_time = greatest(v_now, start_time),
           error_message = coalesce(error_message, format('run ended as %s', p_status))
     WHERE trace_id = ANY (p_trace_ids) AND status IN ('pending', 'running')
    RETURNING id, org_id, trace_id
  )
  INSERT INTO workflow_events (org_id, trace_id, step_id, event_type, event_data)
  SELECT org_id, trace_id, id, 'step_' || p_status, jsonb_build_object('status', p_status, 'reason', 'run ' || p_status)
    FROM ended ORDER BY trace_id, id;

  WITH ended AS (
    UPDATE workflow_trace
       SET status = p_status, end_time = greatest(v_now, start_time), error_message = p_error_message,
           cancel_requested_at = CASE WHEN p_cancel_reason IS NULL THEN cancel_requested_at
                                      ELSE coalesce(cancel_requested_at, v_now) END,
           cancel_reason = coalesce(cancel_reason, p_cancel_reason)
     WHERE id = ANY (p_trace_ids)
    RETURNING id, org_id, duration_ms
  )
  SELECT array_agg(id ORDER BY id), array_agg(org_id ORDER BY id), array_agg(duration_ms ORDER BY id)
    INTO v_ids, v_orgs, v_durations
    FROM ended;

  INSERT INTO workflow_events (org_id, trace_id, event_type, event_data)
  SELECT e.org_id, e.id, 'workflow_' || p_status,
         jsonb_build_object('status', p_status, 'duration_ms', e.duration_ms, 'error_message', p_error_message)
         || coalesce(p_event_data, '{}')
    FROM unnest(v_ids, v_orgs, v_durations) AS e (id, org_id, duration_ms)
   ORDER BY e.id;
END
$$;

-- The single form: one run.
CREATE OR REPLACE FUNCTION end_workflow_run(p_trace_id bigint, p_status trace_status, p_error_message text, p_event_data jsonb)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT end_workflow_runs(ARRAY[p_trace_id], p_status, p_error_message, p_event_data)
$$;

-- Cancels open runs the caller has locked and checked (PENDING or ACTIVE), as cancel_workflow_execution does one: a
-- PENDING run, or any with IMMEDIATE, ends as CANCELLED now with its running steps; GRACEFUL marks an ACTIVE run once
-- (cancel_requested_at, cancel_reason, a workflow_cancel_requested event); asking again changes nothing.
CREATE FUNCTION cancel_workflow_executions(p_trace_ids bigint[], p_reason text, p_mode text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_by     uuid := app_current_user_id();
  v_end    bigint[];
BEGIN
  SELECT coalesce(array_agg(t.id ORDER BY t.id), '{}') INTO v_end
    FROM workflow_trace t
   WHERE t.id = ANY (p_trace_ids) AND (t.status = 'pending' OR (t.status = 'active' AND p_mode = 'immediate'));
  IF cardinality(v_end) > 0 THEN
    PERFORM end_workflow_runs(v_end, 'cancelled', 'cancelled: ' || p_reason,
      jsonb_build_object('mode', p_mode, 'reason', p_reason, 'requested_by', v_by, 'by', 'operator'), p_reason);
  END IF;
  IF p_mode = 'graceful' THEN
    WITH marked AS (
      UPDATE workflow_trace t SET cancel_requested_at = clock_timestamp(), cancel_reason = p_reason
       WHERE t.id = ANY (p_trace_ids) AND t.status = 'active' AND t.cancel_requested_at IS NULL
      RETURNING t.id, t.org_id, t.status, t.lease_expires_at
    )
    INSERT INTO workflow_events (org_id, trace_id, event_type, event_data)
    SELECT m.org_id, m.id, 'workflow_cancel_requested',
           jsonb_build_object('status', m.status, 'mode', p_mode, 'reason', p_reason, 'requested_by', v_by,
                              'lease_expires_at', m.lease_expires_at)
      FROM marked m ORDER BY m.id;
  END IF;
END
$$;

-- The single form: its checks, then the set form with one run.
CREATE OR REPLACE FUNCTION cancel_workflow_execution(p_trace_id bigint, p_reason text, p_mode text DEFAULT 'graceful')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_trace  workflow_trace%ROWTYPE;
  v_mode   text := coalesce(p_mode, 'graceful');
BEGIN
  IF p_trace_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'trace_id must not be null';
  END IF;
  IF p_reason IS NULL OR length(btrim(p_reason)) = 0 OR length(p_reason) > 1000 THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'reason must be 1 to 1000 characters and not blank',
      DETAIL = '[{"field": "reason", "message": "must be 1 to 1000 characters and not blank"}]';
  END IF;
  IF v_mode NOT IN ('graceful', 'immediate') THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = format('mode must be graceful or immediate, got %s', v_mode);
  END IF;
  SELECT * INTO v_trace FROM workflow_trace WHERE id = p_trace_id FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'WF001', MESSAGE = format('trace %s not found', p_trace_id);
  END IF;
  IF v_trace.status NOT IN ('pending', 'active') THEN
    RAISE EXCEPTION USING ERRCODE = 'WF002', MESSAGE = format('trace %s is already %s', p_trace_id, v_trace.status);
  END IF;
  PERFORM cancel_workflow_executions(ARRAY[p_trace_id], p_reason, v_mode);
  RETURN p_trace_id;
END
$$;

GRANT EXECUTE ON FUNCTION
  end_workflow_runs(bigint[], trace_status, text, jsonb, text),
  cancel_workflow_executions(bigint[], text, text)
  TO workflowgraph_app;
