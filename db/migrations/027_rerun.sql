-- Re-runs (the seed's "execution replay") and the retry policy.
--
-- rerun_workflow_execution queues a new PENDING run linked to a finished one: parent_trace_id, root_trace_id (the
-- first run of the lineage), attempt + 1. ALL_STEPS starts over. FROM_FAILURE carries over the steps before the first
-- one that did not complete (their inputs and outputs, as completed steps of the new run) and the whole context, and
-- records resume_from_step_number: where the worker starts. The channel may change (web → voice).
--
-- The retry policy (runControl.retryMaxAttempts, runControl.retryBackoffSeconds) re-runs a run that ends as FAILED
-- or TIMEOUT FROM_FAILURE while attempts remain, not before backoff * 2^(attempt - 1) seconds.

-- The limits of a workflow's own organisation, whoever asks (the sweeper asks as the owner, with no tenant set).
CREATE OR REPLACE FUNCTION run_control_limits(p_workflow_id uuid, p_channel workflow_channel) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT jsonb_build_object('maxLeaseSeconds', 3600, 'maxRunSeconds', NULL, 'maxStepSeconds', NULL,
                            'retryMaxAttempts', 1, 'retryBackoffSeconds', 0)
      || coalesce((SELECT jsonb_strip_nulls(c.config -> 'runControl') FROM workflow_configs c
                    WHERE c.config_type = 'global' AND c.is_active
                      AND c.org_id = (SELECT w.org_id FROM workflows w WHERE w.id = p_workflow_id)
                      AND jsonb_typeof(c.config -> 'runControl') = 'object'), '{}')
      || coalesce((SELECT jsonb_strip_nulls(w.settings -> 'runControl') FROM workflow_channel_configs w
                    WHERE w.workflow_id = p_workflow_id AND w.channel = p_channel
                      AND jsonb_typeof(w.settings -> 'runControl') = 'object'), '{}')
$$;

CREATE FUNCTION rerun_workflow_execution(
  p_trace_id   bigint,
  p_strategy   text,
  p_channel    workflow_channel DEFAULT NULL,
  p_reason     text DEFAULT NULL,
  p_not_before timestamptz DEFAULT NULL
) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_parent   workflow_trace%ROWTYPE;
  v_channel  workflow_channel;
  v_enabled  boolean;
  v_resume   integer;
  v_trace_id bigint;
  v_by       uuid := app_current_user_id();
BEGIN
  IF p_trace_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'trace_id must not be null';
  END IF;
  IF p_strategy IS NULL OR p_strategy NOT IN ('from_failure', 'all_steps') THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'strategy must be from_failure or all_steps',
      DETAIL = '[{"field": "strategy", "message": "must be FROM_FAILURE or ALL_STEPS"}]';
  END IF;
  IF p_reason IS NULL OR length(btrim(p_reason)) = 0 OR length(p_reason) > 1000 THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'reason must be 1 to 1000 characters and not blank',
      DETAIL = '[{"field": "reason", "message": "must be 1 to 1000 characters and not blank"}]';
  END IF;
  -- the parent is locked so that two re-runs of one run number their attempts one after the other
  SELECT * INTO v_parent FROM workflow_trace WHERE id = p_trace_id FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'WF001', MESSAGE = format('trace %s not found', p_trace_id);
  END IF;
  IF v_parent.status IN ('pending', 'active') THEN
    RAISE EXCEPTION USING ERRCODE = 'WF002',
      MESSAGE = format('trace %s is still %s; only a finished run can be re-run', p_trace_id, v_parent.status);
  END IF;
  v_channel := coalesce(p_channel, v_parent.channel);
  SELECT is_enabled INTO v_enabled FROM workflow_channel_configs WHERE workflow_id = v_parent.workflow_id AND channel = v_channel;
  IF v_enabled IS FALSE THEN
    RAISE EXCEPTION USING ERRCODE = 'WF002',
      MESSAGE = format('channel %s is disabled for workflow %s', v_channel, v_parent.workflow_id);
  END IF;

  IF p_strategy = 'from_failure' THEN
    IF v_parent.status = 'completed' THEN
      RAISE EXCEPTION USING ERRCODE = 'WF002',
        MESSAGE = format('trace %s completed; there is no failure to resume from (use ALL_STEPS)', p_trace_id);
    END IF;
    SELECT coalesce(min(step_number) FILTER (WHERE status NOT IN ('completed', 'skipped')), max(step_number) + 1, 1)
      INTO v_resume FROM workflow_steps WHERE trace_id = p_trace_id;
  END IF;

  INSERT INTO workflow_trace (org_id, workflow_id, channel, status, config_snapshot, start_time, created_by, priority,
                              not_before, parent_trace_id, root_trace_id, attempt, resume_from_step_number)
  VALUES (v_parent.org_id, v_parent.workflow_id, v_channel, 'pending', v_parent.config_snapshot, clock_timestamp(),
          v_by, v_parent.priority, p_not_before, v_parent.id, coalesce(v_parent.root_trace_id, v_parent.id),
          v_parent.attempt + 1, v_resume)
  RETURNING id INTO v_trace_id;

  IF p_strategy = 'from_failure' THEN
    WITH carried AS (
      INSERT INTO workflow_steps (org_id, trace_id, node_id, step_number, status, input_data, output_data, retry_count,
                                  start_time, end_time)
      SELECT s.org_id, v_trace_id, s.node_id, s.step_number, s.status, s.input_data, s.output_data, 0, s.start_time, s.end_time
        FROM workflow_steps s
       WHERE s.trace_id = p_trace_id AND s.step_number < v_resume
      RETURNING id, org_id, step_number, status
    )
    INSERT INTO workflow_events (org_id, trace_id, step_id, event_type, event_data)
    SELECT org_id, v_trace_id, id, 'step_carried_over',
           jsonb_build_object('status', status, 'step_number', step_number, 'from_trace_id', p_trace_id)
      FROM carried;
    INSERT INTO workflow_trace_context (org_id, trace_id, key, value)
    SELECT c.org_id, v_trace_id, c.key, c.value FROM workflow_trace_context c WHERE c.trace_id = p_trace_id;
  END IF;

  INSERT INTO workflow_events (org_id, trace_id, event_type, event_data)
  VALUES (v_parent.org_id, v_trace_id, 'workflow_enqueued',
          jsonb_build_object('status', 'pending', 'channel', v_channel, 'rerun_of', p_trace_id, 'strategy', p_strategy,
                             'attempt', v_parent.attempt + 1, 'resume_from_step_number', v_resume,
                             'reason', p_reason, 'requested_by', v_by, 'not_before', p_not_before)),
         (v_parent.org_id, p_trace_id, 'workflow_rerun_requested',
          jsonb_build_object('status', v_parent.status, 'rerun_trace_id', v_trace_id, 'strategy', p_strategy,
                             'channel', v_channel, 'reason', p_reason, 'requested_by', v_by));
  RETURN v_trace_id;
END
$$;

-- The retry policy: a run that ends as FAILED or TIMEOUT is re-run from its failure while attempts remain.
CREATE FUNCTION tg_workflow_trace__retry_policy() RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_limits   jsonb := run_control_limits(NEW.workflow_id, NEW.channel);
  v_max      integer := coalesce((v_limits ->> 'retryMaxAttempts')::integer, 1);
  v_backoff  integer := greatest(coalesce((v_limits ->> 'retryBackoffSeconds')::integer, 0), 0);
BEGIN
  IF NEW.attempt < least(v_max, 100) AND NOT EXISTS (SELECT 1 FROM workflow_trace r WHERE r.parent_trace_id = NEW.id) THEN
    PERFORM rerun_workflow_execution(NEW.id, 'from_failure', NULL,
      format('retry policy: attempt %s of %s after %s', NEW.attempt + 1, v_max, NEW.status),
      clock_timestamp() + make_interval(secs => least(v_backoff::double precision * 2 ^ (NEW.attempt - 1), 86400)));
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER tg_workflow_trace__retry_policy AFTER UPDATE OF status ON workflow_trace
  FOR EACH ROW WHEN (NEW.status IN ('failed', 'timeout') AND OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION tg_workflow_trace__retry_policy();

GRANT EXECUTE ON FUNCTION
  rerun_workflow_execution(bigint, text, workflow_channel, text, timestamptz),
  tg_workflow_trace__retry_policy()
  TO workflowgraph_app;
