-- Run control: one state machine for runs, a queue that workers claim with leases, heartbeats and cancellation.
--
-- The state machine is data: workflow_trace_transitions lists every allowed change of workflow_trace.status, who
-- makes it and the event it writes; a trigger refuses any other change (WF002), whoever writes the row. The README
-- draws the same table as a Mermaid diagram. Run limits (lease cap, run and step durations, retry policy) are read
-- from the configuration entities by run_control_limits() below.

ALTER TABLE workflow_trace
  ADD COLUMN priority                integer NOT NULL DEFAULT 0,
  ADD COLUMN not_before              timestamptz,
  ADD COLUMN worker_name             text,
  ADD COLUMN lease_expires_at        timestamptz,
  ADD COLUMN claimed_at              timestamptz,
  ADD COLUMN run_deadline_at         timestamptz,
  ADD COLUMN step_timeout_seconds    integer,
  ADD COLUMN cancel_requested_at     timestamptz,
  ADD COLUMN cancel_reason           text,
  ADD COLUMN parent_trace_id         bigint,
  ADD COLUMN root_trace_id           bigint,
  ADD COLUMN attempt                 integer NOT NULL DEFAULT 1,
  ADD COLUMN resume_from_step_number integer,
  ADD CONSTRAINT workflow_trace_priority_range CHECK (priority BETWEEN -1000 AND 1000),
  ADD CONSTRAINT workflow_trace_worker_name_length CHECK (length(worker_name) BETWEEN 1 AND 200),
  ADD CONSTRAINT workflow_trace_cancel_reason_length CHECK (length(cancel_reason) BETWEEN 1 AND 1000),
  ADD CONSTRAINT workflow_trace_attempt_positive CHECK (attempt >= 1),
  ADD CONSTRAINT workflow_trace_step_timeout_seconds_positive CHECK (step_timeout_seconds >= 1),
  ADD CONSTRAINT workflow_trace_resume_from_step_number_positive CHECK (resume_from_step_number >= 1),
  ADD CONSTRAINT workflow_trace_parent_fk FOREIGN KEY (parent_trace_id, org_id)
    REFERENCES workflow_trace (id, org_id) ON DELETE SET NULL (parent_trace_id),
  ADD CONSTRAINT workflow_trace_root_fk FOREIGN KEY (root_trace_id, org_id)
    REFERENCES workflow_trace (id, org_id) ON DELETE SET NULL (root_trace_id);

-- The queue: a tenant's ready runs by priority, then age. Claiming walks this index and skips locked rows.
CREATE INDEX ix_workflow_trace__queue ON workflow_trace (org_id, priority DESC, start_time, id) WHERE status = 'pending';
-- Lineage navigation (parent → reruns, root → every attempt).
CREATE INDEX ix_workflow_trace__parent ON workflow_trace (parent_trace_id) WHERE parent_trace_id IS NOT NULL;
CREATE INDEX ix_workflow_trace__root ON workflow_trace (root_trace_id) WHERE root_trace_id IS NOT NULL;

COMMENT ON COLUMN workflow_trace.priority IS 'queue order: higher first, then older (start_time)';
COMMENT ON COLUMN workflow_trace.not_before IS 'a pending run is not claimed before this time';
COMMENT ON COLUMN workflow_trace.lease_expires_at IS 'the claiming worker must heartbeat before this time';
COMMENT ON COLUMN workflow_trace.claimed_at IS 'when a worker claimed the run (its run-duration limit counts from here)';
COMMENT ON COLUMN workflow_trace.run_deadline_at IS 'claimed_at + runControl.maxRunSeconds: the sweeper times the run out after it';
COMMENT ON COLUMN workflow_trace.step_timeout_seconds IS 'runControl.maxStepSeconds when the run was claimed';

-- Every allowed status change of a run. actor: who may make it (worker and operator need the operator role,
-- admin the admin role, sweeper is the service itself).
CREATE TABLE workflow_trace_transitions (
  from_status  trace_status NOT NULL,
  to_status    trace_status NOT NULL,
  actor        text NOT NULL CHECK (actor IN ('worker', 'operator', 'admin', 'sweeper')),
  via          text NOT NULL,
  event_type   text NOT NULL,
  PRIMARY KEY (from_status, to_status, actor, via)
);
INSERT INTO workflow_trace_transitions (from_status, to_status, actor, via, event_type) VALUES
  ('pending', 'active',    'worker',   'claimWorkflowExecution',     'workflow_claimed'),
  ('pending', 'active',    'worker',   'startWorkflowStep',          'workflow_started'),
  ('pending', 'cancelled', 'operator', 'cancelWorkflowExecution',    'workflow_cancelled'),
  ('pending', 'completed', 'worker',   'completeWorkflowExecution',  'workflow_completed'),
  ('pending', 'failed',    'worker',   'completeWorkflowExecution',  'workflow_failed'),
  ('pending', 'cancelled', 'worker',   'completeWorkflowExecution',  'workflow_cancelled'),
  ('pending', 'timeout',   'worker',   'completeWorkflowExecution',  'workflow_timeout'),
  ('active',  'completed', 'worker',   'completeWorkflowExecution',  'workflow_completed'),
  ('active',  'failed',    'worker',   'completeWorkflowExecution',  'workflow_failed'),
  ('active',  'cancelled', 'worker',   'completeWorkflowExecution',  'workflow_cancelled'),
  ('active',  'timeout',   'worker',   'completeWorkflowExecution',  'workflow_timeout'),
  ('active',  'cancelled', 'operator', 'cancelWorkflowExecution',    'workflow_cancelled');
-- reference data, the same for every organisation: row level security is on (as on every table), and the service
-- role may read every row and change none
ALTER TABLE workflow_trace_transitions ENABLE ROW LEVEL SECURITY;
CREATE POLICY workflow_trace_transitions__read ON workflow_trace_transitions FOR SELECT TO workflowgraph_app USING (true);
GRANT SELECT ON workflow_trace_transitions TO workflowgraph_app;

CREATE FUNCTION tg_workflow_trace__check_transition() RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status THEN
    PERFORM 1 FROM workflow_trace_transitions WHERE from_status = OLD.status AND to_status = NEW.status;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'WF002',
        MESSAGE = format('trace %s cannot go from %s to %s', OLD.id, OLD.status, NEW.status);
    END IF;
  END IF;
  RETURN NEW;
END
$$;
GRANT EXECUTE ON FUNCTION tg_workflow_trace__check_transition() TO workflowgraph_app;
CREATE TRIGGER tg_workflow_trace__check_transition BEFORE UPDATE OF status ON workflow_trace
  FOR EACH ROW EXECUTE FUNCTION tg_workflow_trace__check_transition();

-- The run limits of a workflow on a channel, each key from the most specific place that sets it:
--   1. workflow_channel_configs.settings -> 'runControl'        (this workflow on this channel)
--   2. the active global workflow_configs row's config -> 'runControl' (the organisation's default)
--   3. the built-in defaults below.
-- Keys: maxLeaseSeconds, maxRunSeconds, maxStepSeconds (null: no limit), retryMaxAttempts (1: no retry),
-- retryBackoffSeconds.
CREATE FUNCTION run_control_limits(p_workflow_id uuid, p_channel workflow_channel) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT jsonb_build_object('maxLeaseSeconds', 3600, 'maxRunSeconds', NULL, 'maxStepSeconds', NULL,
                            'retryMaxAttempts', 1, 'retryBackoffSeconds', 0)
      || coalesce((SELECT jsonb_strip_nulls(c.config -> 'runControl') FROM workflow_configs c
                    WHERE c.config_type = 'global' AND c.is_active AND c.org_id = app_current_org_id()
                      AND jsonb_typeof(c.config -> 'runControl') = 'object'), '{}')
      || coalesce((SELECT jsonb_strip_nulls(w.settings -> 'runControl') FROM workflow_channel_configs w
                    WHERE w.workflow_id = p_workflow_id AND w.channel = p_channel
                      AND jsonb_typeof(w.settings -> 'runControl') = 'object'), '{}')
$$;
GRANT EXECUTE ON FUNCTION run_control_limits(uuid, workflow_channel) TO workflowgraph_app;

-- A lease length in seconds checked against the run's cap.
CREATE FUNCTION check_lease_seconds(p_lease_seconds integer, p_limits jsonb) RETURNS interval
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_cap integer := (p_limits ->> 'maxLeaseSeconds')::integer;
BEGIN
  IF p_lease_seconds IS NULL OR p_lease_seconds < 1 THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = format('lease_seconds must be positive, got %s', coalesce(p_lease_seconds::text, 'NULL')),
      DETAIL = '[{"field": "leaseSeconds", "message": "must be positive"}]';
  END IF;
  IF v_cap IS NOT NULL AND p_lease_seconds > v_cap THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = format('lease_seconds %s is over the cap of %s', p_lease_seconds, v_cap),
      DETAIL = format('[{"field": "leaseSeconds", "message": "is over the cap of %s seconds"}]', v_cap);
  END IF;
  RETURN make_interval(secs => p_lease_seconds);
END
$$;
GRANT EXECUTE ON FUNCTION check_lease_seconds(integer, jsonb) TO workflowgraph_app;

-- Queues a run (PENDING) for a worker to claim; the same external id for the same workflow returns the existing run.
-- p_context (a JSON object) becomes the run's context, one key each.
CREATE FUNCTION enqueue_workflow_execution(
  p_workflow_id     uuid,
  p_channel         workflow_channel,
  p_external_id     text DEFAULT NULL,
  p_config_snapshot jsonb DEFAULT NULL,
  p_context         jsonb DEFAULT NULL,
  p_priority        integer DEFAULT 0,
  p_not_before      timestamptz DEFAULT NULL
) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_workflow  workflows%ROWTYPE;
  v_enabled   boolean;
  v_snapshot  jsonb := p_config_snapshot;
  v_trace_id  bigint;
BEGIN
  IF p_workflow_id IS NULL OR p_channel IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'workflow_id and channel must not be null';
  END IF;
  IF p_external_id IS NOT NULL AND (length(btrim(p_external_id)) = 0 OR length(p_external_id) > 200) THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'external_id must be 1 to 200 characters and not blank',
      DETAIL = '[{"field": "externalId", "message": "must be 1 to 200 characters and not blank"}]';
  END IF;
  IF coalesce(p_priority, 0) NOT BETWEEN -1000 AND 1000 THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = format('priority must be between -1000 and 1000, got %s', p_priority),
      DETAIL = '[{"field": "priority", "message": "must be between -1000 and 1000"}]';
  END IF;
  IF p_not_before > now() + interval '366 days' THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'not_before must be within a year from now',
      DETAIL = '[{"field": "notBefore", "message": "must be within a year from now"}]';
  END IF;
  IF p_context IS NOT NULL AND p_context <> 'null'::jsonb THEN
    IF jsonb_typeof(p_context) <> 'object' THEN
      RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'context must be a JSON object',
        DETAIL = '[{"field": "context", "message": "must be a JSON object"}]';
    END IF;
    IF (SELECT count(*) FROM jsonb_object_keys(p_context)) > 100 THEN
      RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'context may hold at most 100 keys',
        DETAIL = '[{"field": "context", "message": "may hold at most 100 keys"}]';
    END IF;
    IF EXISTS (SELECT 1 FROM jsonb_object_keys(p_context) k WHERE length(k) NOT BETWEEN 1 AND 200) THEN
      RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'context keys must be 1 to 200 characters',
        DETAIL = '[{"field": "context", "message": "keys must be 1 to 200 characters"}]';
    END IF;
  END IF;

  SELECT * INTO v_workflow FROM workflows WHERE id = p_workflow_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'WF001', MESSAGE = format('workflow %s not found', p_workflow_id);
  END IF;
  IF NOT v_workflow.is_active THEN
    RAISE EXCEPTION USING ERRCODE = 'WF002', MESSAGE = format('workflow %s is not active', p_workflow_id);
  END IF;
  SELECT is_enabled INTO v_enabled FROM workflow_channel_configs WHERE workflow_id = p_workflow_id AND channel = p_channel;
  IF v_enabled IS FALSE THEN
    RAISE EXCEPTION USING ERRCODE = 'WF002', MESSAGE = format('channel %s is disabled for workflow %s', p_channel, p_workflow_id);
  END IF;

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

  INSERT INTO workflow_trace (org_id, workflow_id, channel, status, external_id, config_snapshot, start_time, created_by,
                              priority, not_before)
  VALUES (v_workflow.org_id, p_workflow_id, p_channel, 'pending', p_external_id, v_snapshot, clock_timestamp(),
          app_current_user_id(), coalesce(p_priority, 0), p_not_before)
  ON CONFLICT (org_id, workflow_id, external_id) WHERE external_id IS NOT NULL DO NOTHING
  RETURNING id INTO v_trace_id;
  IF v_trace_id IS NULL THEN
    SELECT id INTO STRICT v_trace_id FROM workflow_trace
     WHERE org_id = v_workflow.org_id AND workflow_id = p_workflow_id AND external_id = p_external_id;
    RETURN v_trace_id;
  END IF;

  IF jsonb_typeof(p_context) = 'object' THEN
    INSERT INTO workflow_trace_context (org_id, trace_id, key, value)
    SELECT v_workflow.org_id, v_trace_id, e.key, e.value FROM jsonb_each(p_context) e;
  END IF;

  INSERT INTO workflow_events (org_id, trace_id, event_type, event_data)
  VALUES (v_workflow.org_id, v_trace_id, 'workflow_enqueued',
          jsonb_build_object('status', 'pending', 'channel', p_channel, 'external_id', p_external_id,
                             'priority', coalesce(p_priority, 0), 'not_before', p_not_before,
                             'requested_by', app_current_user_id()));
  RETURN v_trace_id;
END
$$;

-- Takes the next ready PENDING run of the caller's organisation on one of p_channels (and of p_workflow_ids when
-- given): priority first, then age. SKIP LOCKED lets concurrent claimers pass each other's candidates, so no two
-- ever get the same run. NULL when nothing is ready.
CREATE FUNCTION claim_workflow_execution(
  p_channels      workflow_channel[],
  p_workflow_ids  uuid[],
  p_worker_name   text,
  p_lease_seconds integer
) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_trace   workflow_trace%ROWTYPE;
  v_limits  jsonb;
  v_lease   interval;
  v_now     timestamptz := clock_timestamp();
BEGIN
  IF p_channels IS NULL OR cardinality(p_channels) NOT BETWEEN 1 AND 3 OR array_position(p_channels, NULL) IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'channels must name 1 to 3 channels',
      DETAIL = '[{"field": "channels", "message": "must name 1 to 3 channels"}]';
  END IF;
  IF cardinality(p_workflow_ids) > 100 OR array_position(p_workflow_ids, NULL) IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'workflow_ids may name at most 100 workflows',
      DETAIL = '[{"field": "workflowIds", "message": "may name at most 100 workflows"}]';
  END IF;
  IF p_worker_name IS NULL OR length(btrim(p_worker_name)) = 0 OR length(p_worker_name) > 200 THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'worker_name must be 1 to 200 characters and not blank',
      DETAIL = '[{"field": "workerName", "message": "must be 1 to 200 characters and not blank"}]';
  END IF;
  -- the organisation's cap before anything is locked; the run's own cap once it is known
  PERFORM check_lease_seconds(p_lease_seconds, jsonb_build_object('maxLeaseSeconds', 86400));

  SELECT * INTO v_trace FROM workflow_trace t
   WHERE t.org_id = app_current_org_id() AND t.status = 'pending'
     AND t.channel = ANY (p_channels)
     AND (p_workflow_ids IS NULL OR t.workflow_id = ANY (p_workflow_ids))
     AND (t.not_before IS NULL OR t.not_before <= v_now)
   ORDER BY t.priority DESC, t.start_time, t.id
   LIMIT 1
   FOR NO KEY UPDATE SKIP LOCKED;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;

  v_limits := run_control_limits(v_trace.workflow_id, v_trace.channel);
  v_lease := check_lease_seconds(p_lease_seconds, v_limits);

  UPDATE workflow_trace
     SET status = 'active', worker_name = p_worker_name, claimed_at = v_now, lease_expires_at = v_now + v_lease,
         run_deadline_at = v_now + make_interval(secs => (v_limits ->> 'maxRunSeconds')::integer),
         step_timeout_seconds = (v_limits ->> 'maxStepSeconds')::integer
   WHERE id = v_trace.id
  RETURNING * INTO v_trace;

  INSERT INTO workflow_events (org_id, trace_id, event_type, event_data)
  VALUES (v_trace.org_id, v_trace.id, 'workflow_claimed',
          jsonb_build_object('status', 'active', 'channel', v_trace.channel, 'worker_name', p_worker_name,
                             'lease_expires_at', v_trace.lease_expires_at, 'attempt', v_trace.attempt));
  RETURN v_trace.id;
END
$$;

-- Extends the lease of a claimed run and tells the worker whether a cancel was requested. A run that is no longer
-- active, whose lease already expired (the sweeper may be ending it), or that another worker holds refuses (WF002).
CREATE FUNCTION heartbeat_workflow_execution(p_trace_id bigint, p_lease_seconds integer, p_worker_name text DEFAULT NULL)
RETURNS TABLE (trace_id bigint, cancel_requested boolean, lease_expires_at timestamptz)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_trace  workflow_trace%ROWTYPE;
  v_lease  interval;
  v_now    timestamptz := clock_timestamp();
BEGIN
  IF p_trace_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'trace_id must not be null';
  END IF;
  SELECT * INTO v_trace FROM workflow_trace t WHERE t.id = p_trace_id FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'WF001', MESSAGE = format('trace %s not found', p_trace_id);
  END IF;
  v_lease := check_lease_seconds(p_lease_seconds, run_control_limits(v_trace.workflow_id, v_trace.channel));
  IF v_trace.status <> 'active' THEN
    RAISE EXCEPTION USING ERRCODE = 'WF002', MESSAGE = format('trace %s is %s; its lease is gone', p_trace_id, v_trace.status);
  END IF;
  IF v_trace.lease_expires_at IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF002', MESSAGE = format('trace %s was not claimed; it has no lease', p_trace_id);
  END IF;
  IF p_worker_name IS NOT NULL AND v_trace.worker_name IS DISTINCT FROM p_worker_name THEN
    RAISE EXCEPTION USING ERRCODE = 'WF002',
      MESSAGE = format('trace %s is leased to another worker, not %s', p_trace_id, p_worker_name);
  END IF;
  IF v_trace.lease_expires_at < v_now THEN
    RAISE EXCEPTION USING ERRCODE = 'WF002',
      MESSAGE = format('the lease of trace %s expired at %s; the run is being timed out', p_trace_id, v_trace.lease_expires_at);
  END IF;
  UPDATE workflow_trace t SET lease_expires_at = v_now + v_lease WHERE t.id = p_trace_id
  RETURNING * INTO v_trace;
  RETURN QUERY SELECT v_trace.id, v_trace.cancel_requested_at IS NOT NULL, v_trace.lease_expires_at;
END
$$;

-- Ends an open run as p_status with its open steps, writing one event per step and one for the run
-- (event_data merged with p_event_data). The caller holds the run's lock and has checked the transition.
CREATE FUNCTION end_workflow_run(p_trace_id bigint, p_status trace_status, p_error_message text, p_event_data jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_trace  workflow_trace%ROWTYPE;
  v_now    timestamptz := clock_timestamp();
BEGIN
  WITH ended AS (
    UPDATE workflow_steps
       SET status = p_status::text, end_time = greatest(v_now, start_time),
           error_message = coalesce(error_message, format('run ended as %s', p_status))
     WHERE trace_id = p_trace_id AND status IN ('pending', 'running')
    RETURNING id, org_id
  )
  INSERT INTO workflow_events (org_id, trace_id, step_id, event_type, event_data)
  SELECT org_id, p_trace_id, id, 'step_' || p_status, jsonb_build_object('status', p_status, 'reason', 'run ' || p_status)
    FROM ended;

  UPDATE workflow_trace
     SET status = p_status, end_time = greatest(v_now, start_time), error_message = p_error_message
   WHERE id = p_trace_id
  RETURNING * INTO v_trace;

  INSERT INTO workflow_events (org_id, trace_id, event_type, event_data)
  VALUES (v_trace.org_id, p_trace_id, 'workflow_' || p_status,
          jsonb_build_object('status', p_status, 'duration_ms', v_trace.duration_ms, 'error_message', p_error_message)
          || coalesce(p_event_data, '{}'));
END
$$;

-- Cancels a run. A PENDING run, or any open run with IMMEDIATE, ends as CANCELLED now with its running steps.
-- GRACEFUL marks an ACTIVE run (cancel_requested_at, cancel_reason): its worker sees it on the next heartbeat and
-- ends the run; if it does not within its lease, the sweeper ends it. Asking again gracefully changes nothing.
CREATE FUNCTION cancel_workflow_execution(p_trace_id bigint, p_reason text, p_mode text DEFAULT 'graceful')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_trace  workflow_trace%ROWTYPE;
  v_mode   text := coalesce(p_mode, 'graceful');
  v_by     uuid := app_current_user_id();
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

  IF v_trace.status = 'pending' OR v_mode = 'immediate' THEN
    UPDATE workflow_trace SET cancel_requested_at = coalesce(cancel_requested_at, clock_timestamp()),
                              cancel_reason = coalesce(cancel_reason, p_reason)
     WHERE id = p_trace_id;
    PERFORM end_workflow_run(p_trace_id, 'cancelled', 'cancelled: ' || p_reason,
      jsonb_build_object('mode', v_mode, 'reason', p_reason, 'requested_by', v_by, 'by', 'operator'));
  ELSIF v_trace.cancel_requested_at IS NULL THEN
    UPDATE workflow_trace SET cancel_requested_at = clock_timestamp(), cancel_reason = p_reason WHERE id = p_trace_id;
    INSERT INTO workflow_events (org_id, trace_id, event_type, event_data)
    VALUES (v_trace.org_id, p_trace_id, 'workflow_cancel_requested',
            jsonb_build_object('status', v_trace.status, 'mode', v_mode, 'reason', p_reason, 'requested_by', v_by,
                               'lease_expires_at', v_trace.lease_expires_at));
  END IF;
  RETURN p_trace_id;
END
$$;

GRANT EXECUTE ON FUNCTION
  enqueue_workflow_execution(uuid, workflow_channel, text, jsonb, jsonb, integer, timestamptz),
  claim_workflow_execution(workflow_channel[], uuid[], text, integer),
  heartbeat_workflow_execution(bigint, integer, text),
  end_workflow_run(bigint, trace_status, text, jsonb),
  cancel_workflow_execution(bigint, text, text)
  TO workflowgraph_app;
