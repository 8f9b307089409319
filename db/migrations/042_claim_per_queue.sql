-- The claim reads only the queues it was asked for.
--
-- 025's claim walked one index of the organisation's pending runs (org_id, priority DESC, start_time, id) and
-- filtered channel and workflow on the way: a worker of workflow B behind a backlog of 300,000 runs of workflow A
-- (or a web worker behind a voice backlog) read the whole backlog on every claim. Now each queue a claim asks for
-- has its head read from an index in its own order — (org, channel) without workflowIds, (org, workflow, channel)
-- with them — each head locked with SKIP LOCKED, and the best head wins (priority, then age). A claim locks at most
-- one candidate per queue asked for (channels x workflows, at most 3 x 100) for the few milliseconds of its
-- transaction; concurrent claimers pass those as they pass each other's claimed runs.

DROP INDEX ix_workflow_trace__queue;
CREATE INDEX ix_workflow_trace__queue ON workflow_trace (org_id, channel, priority DESC, start_time, id)
  WHERE status = 'pending';
CREATE INDEX ix_workflow_trace__queue_workflow ON workflow_trace (org_id, workflow_id, channel, priority DESC, start_time, id)
  WHERE status = 'pending';

CREATE OR REPLACE FUNCTION claim_workflow_execution(
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
  v_id      bigint;
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

  -- The head of each queue asked for (channel, or channel x workflow), each read from its own index in order and
  -- locked with SKIP LOCKED, then the best of those heads: no claim walks past runs it did not ask for.
  IF p_workflow_ids IS NULL THEN
    SELECT head.id INTO v_id
      FROM unnest(p_channels) AS asked(channel)
      CROSS JOIN LATERAL (
        SELECT t.id, t.priority, t.start_time FROM workflow_trace t
         WHERE t.org_id = app_current_org_id() AND t.status = 'pending' AND t.channel = asked.channel
           AND (t.not_before IS NULL OR t.not_before <= v_now)
         ORDER BY t.priority DESC, t.start_time, t.id
         LIMIT 1
         FOR NO KEY UPDATE SKIP LOCKED) AS head
     ORDER BY head.priority DESC, head.start_time, head.id
     LIMIT 1;
  ELSE
    SELECT head.id INTO v_id
      FROM unnest(p_channels) AS asked(channel)
      CROSS JOIN (SELECT DISTINCT w FROM unnest(p_workflow_ids) AS w) AS wanted(workflow_id)
      CROSS JOIN LATERAL (
        SELECT t.id, t.priority, t.start_time FROM workflow_trace t
         WHERE t.org_id = app_current_org_id() AND t.status = 'pending' AND t.workflow_id = wanted.workflow_id
           AND t.channel = asked.channel AND (t.not_before IS NULL OR t.not_before <= v_now)
         ORDER BY t.priority DESC, t.start_time, t.id
         LIMIT 1
         FOR NO KEY UPDATE SKIP LOCKED) AS head
     ORDER BY head.priority DESC, head.start_time, head.id
     LIMIT 1;
  END IF;
  IF v_id IS NULL THEN
    RETURN NULL;
  END IF;
  SELECT * INTO v_trace FROM workflow_trace WHERE id = v_id;

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
