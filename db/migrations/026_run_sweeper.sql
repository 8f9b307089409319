-- The sweeper: ends runs whose worker went away. An ACTIVE run whose lease expired, or that passed its run deadline
-- (claimed_at + runControl.maxRunSeconds), or whose running step passed runControl.maxStepSeconds, ends as TIMEOUT with
-- its running steps; one whose cancel was requested gracefully ends as CANCELLED instead (its worker did not end it
-- within its lease). Every run ends through end_workflow_run, so each writes its events.
--
-- The service calls sweep_workflow_runs through its owner connection, which is the service's own login when no owner
-- is configured: the function works across organisations, so it is SECURITY DEFINER (like partition upkeep). It is
-- narrow: it takes only a batch size and ends only runs that are due. One caller sweeps at a time (a transaction
-- advisory lock that others do not wait for), and candidates are locked with SKIP LOCKED so a worker finishing its
-- run is never blocked.

INSERT INTO workflow_trace_transitions (from_status, to_status, actor, via, event_type) VALUES
  ('active', 'timeout',   'sweeper', 'sweep_workflow_runs', 'workflow_timeout'),
  ('active', 'cancelled', 'sweeper', 'sweep_workflow_runs', 'workflow_cancelled');

-- What the sweeper reads: the earliest moment an ACTIVE run is due (NULL when it has neither lease nor deadline).
CREATE INDEX ix_workflow_trace__due ON workflow_trace (least(lease_expires_at, run_deadline_at)) WHERE status = 'active';
-- Running steps by age, for the step-duration limit (only open steps are in it, so it stays small).
CREATE INDEX ix_workflow_steps__running ON workflow_steps (start_time) WHERE status = 'running';

CREATE FUNCTION sweep_workflow_runs(p_limit integer DEFAULT 500)
RETURNS TABLE (trace_id bigint, org_id uuid, outcome text, reason text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_now     timestamptz := clock_timestamp();
  v_run     record;
  v_status  trace_status;
  v_reason  text;
BEGIN
  IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 10000 THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'limit must be 1 to 10000';
  END IF;
  IF NOT pg_try_advisory_xact_lock(hashtext('workflow run sweeper')) THEN
    RETURN;  -- another instance is sweeping
  END IF;
  FOR v_run IN
    WITH due AS (
      SELECT t.id FROM workflow_trace t
       WHERE t.status = 'active' AND least(t.lease_expires_at, t.run_deadline_at) < v_now
       ORDER BY least(t.lease_expires_at, t.run_deadline_at)
       LIMIT p_limit
    ), slow_steps AS (
      SELECT DISTINCT s.trace_id AS id FROM workflow_steps s JOIN workflow_trace t ON t.id = s.trace_id
       WHERE s.status = 'running' AND t.status = 'active' AND t.step_timeout_seconds IS NOT NULL
         AND s.start_time < v_now - make_interval(secs => t.step_timeout_seconds)
       LIMIT p_limit
    )
    SELECT t.* FROM workflow_trace t
     WHERE t.id IN (SELECT id FROM due UNION SELECT id FROM slow_steps) AND t.status = 'active'
     ORDER BY t.id
     LIMIT p_limit
     FOR NO KEY UPDATE SKIP LOCKED
  LOOP
    IF v_run.cancel_requested_at IS NOT NULL AND v_run.lease_expires_at < v_now THEN
      v_status := 'cancelled';
      v_reason := 'graceful cancel not ended by the worker within its lease';
    ELSIF v_run.lease_expires_at < v_now THEN
      v_status := 'timeout';
      v_reason := format('lease of worker %s expired at %s', v_run.worker_name, v_run.lease_expires_at);
    ELSIF v_run.run_deadline_at < v_now THEN
      v_status := 'timeout';
      v_reason := format('run passed its limit of %s seconds', extract(epoch FROM v_run.run_deadline_at - v_run.claimed_at)::bigint);
    ELSIF EXISTS (SELECT 1 FROM workflow_steps s WHERE s.trace_id = v_run.id AND s.status = 'running'
                     AND s.start_time < v_now - make_interval(secs => v_run.step_timeout_seconds)) THEN
      v_status := 'timeout';
      v_reason := format('a step passed its limit of %s seconds', v_run.step_timeout_seconds);
    ELSE
      CONTINUE;  -- a heartbeat committed in between
    END IF;
    PERFORM end_workflow_run(v_run.id, v_status,
      CASE WHEN v_status = 'cancelled' THEN 'cancelled: ' || coalesce(v_run.cancel_reason, v_reason) ELSE v_reason END,
      jsonb_build_object('by', 'sweeper', 'reason', v_reason, 'worker_name', v_run.worker_name,
                         'lease_expires_at', v_run.lease_expires_at, 'cancel_reason', v_run.cancel_reason));
    trace_id := v_run.id;
    org_id := v_run.org_id;
    outcome := v_status;
    reason := v_reason;
    RETURN NEXT;
  END LOOP;
END
$$;
GRANT EXECUTE ON FUNCTION sweep_workflow_runs(integer) TO workflowgraph_app;
