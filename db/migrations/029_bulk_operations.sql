-- Bulk operations: cancel or re-run every run a `traces` filter matches, tracked as a bulk_operations row.
--
-- The request (request_bulk_operation) freezes the matching run ids in bulk_operation_runs and returns at once; the
-- service's background worker then works the operation in batches, one transaction each: it claims the operation
-- under a lease (claim_bulk_operation, across organisations), and each batch (run_bulk_operation_batch, as the tenant
-- and user who asked, so row level security applies) locks its runs with SKIP LOCKED, acts on them through the single
-- mutations' own functions (cancel_workflow_executions of 028, rerun_workflow_execution: they write the runs' events)
-- and commits the runs' outcomes with the operation's progress. A batch that is rolled back (the instance died) leaves its
-- runs to do; a lease that is not renewed expires, and another instance picks the operation up again. Every run is done
-- exactly once: its outcome is written in the transaction that acted on it. A done run's row is deleted then (the
-- operation's counts keep the progress), so the table holds only what is left to do and the failures with their reason.

CREATE TABLE bulk_operations (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org_id            uuid NOT NULL DEFAULT app_current_org_id() REFERENCES organizations (id) ON DELETE CASCADE,
  kind              text NOT NULL CHECK (kind IN ('cancel', 'rerun')),
  status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'completed')),
  reason            text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
  mode              text CHECK (mode IN ('graceful', 'immediate')),
  strategy          text CHECK (strategy IN ('from_failure', 'all_steps')),
  channel           workflow_channel,
  total             integer NOT NULL CHECK (total >= 1),
  done              integer NOT NULL DEFAULT 0 CHECK (done >= 0),
  failed            integer NOT NULL DEFAULT 0 CHECK (failed >= 0),
  requested_by      uuid DEFAULT app_current_user_id(),
  requested_at      timestamptz NOT NULL DEFAULT now(),
  started_at        timestamptz,
  finished_at       timestamptz,
  -- the instance working the operation, and until when it may without renewing
  worker_name       text CHECK (length(worker_name) BETWEEN 1 AND 200),
  lease_expires_at  timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT bulk_operations_progress CHECK (done + failed <= total),
  CONSTRAINT bulk_operations_kind_arguments CHECK (
    (kind = 'cancel' AND mode IS NOT NULL AND strategy IS NULL AND channel IS NULL)
    OR (kind = 'rerun' AND mode IS NULL AND strategy IS NOT NULL)),
  CONSTRAINT bulk_operations_finished CHECK ((status = 'completed') = (finished_at IS NOT NULL)),
  UNIQUE (id, org_id)
);
COMMENT ON TABLE bulk_operations IS 'a bulk cancel or re-run: its arguments, progress and the lease of the instance working it';

-- the worker's queue: open operations, oldest first (small: completed ones leave it)
CREATE INDEX ix_bulk_operations__open ON bulk_operations (requested_at, id) WHERE status <> 'completed';
CREATE INDEX ix_bulk_operations__org_requested ON bulk_operations (org_id, requested_at DESC, id DESC);

CREATE TRIGGER tg_bulk_operations__set_updated_at BEFORE UPDATE ON bulk_operations
  FOR EACH ROW EXECUTE FUNCTION tg__set_updated_at();

-- The runs an operation acts on, frozen when it was requested; outcome NULL: still to do, 'failed': could not be acted
-- on (error says why); a done run's row is deleted by the batch that did it. No foreign key to the run: retention may
-- delete a run first, and the batch then records it as failed.
CREATE TABLE bulk_operation_runs (
  operation_id  bigint NOT NULL,
  org_id        uuid NOT NULL DEFAULT app_current_org_id(),
  trace_id      bigint NOT NULL,
  outcome       text CHECK (outcome IN ('done', 'failed')),
  error         text CHECK (length(error) <= 1000),
  PRIMARY KEY (operation_id, trace_id),
  FOREIGN KEY (operation_id, org_id) REFERENCES bulk_operations (id, org_id) ON DELETE CASCADE
);
CREATE INDEX ix_bulk_operation_runs__todo ON bulk_operation_runs (operation_id, trace_id) WHERE outcome IS NULL;

ALTER TABLE bulk_operations ENABLE ROW LEVEL SECURITY;
CREATE POLICY bulk_operations__tenant ON bulk_operations TO workflowgraph_app
  USING (org_id = app_current_org_id()) WITH CHECK (org_id = app_current_org_id());
ALTER TABLE bulk_operation_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY bulk_operation_runs__tenant ON bulk_operation_runs TO workflowgraph_app
  USING (org_id = app_current_org_id()) WITH CHECK (org_id = app_current_org_id());
GRANT SELECT, INSERT, UPDATE ON bulk_operations, bulk_operation_runs TO workflowgraph_app;
GRANT DELETE ON bulk_operation_runs TO workflowgraph_app;

-- Records a bulk operation over p_trace_ids: the runs the caller's filter matched among those the operation can act
-- on, read with LIMIT p_max_runs + 1 (never a full count, so a filter over millions of runs stops early).
-- p_excluded says whether the filter leaves out at least one run of the organisation: NULL when it constrains nothing
-- (an empty filter), false when it matches every run; both are refused. With p_dry_run nothing is written. Leaves the
-- operation's id in wg.mutation_key ('' for a dry run) and the first ten run ids (the sample) in wg.bulk_sample.
CREATE FUNCTION request_bulk_operation(
  p_kind       text,
  p_trace_ids  bigint[],
  p_excluded   boolean,
  p_reason     text,
  p_mode       text,
  p_strategy   text,
  p_channel    workflow_channel,
  p_dry_run    boolean,
  p_max_runs   integer
) RETURNS TABLE (operation_id bigint, matched integer, dry_run boolean)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_ids      bigint[];
  v_matched  integer := coalesce(cardinality(p_trace_ids), 0);
  v_id       bigint;
BEGIN
  IF p_kind IS NULL OR p_kind NOT IN ('cancel', 'rerun') THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'kind must be cancel or rerun';
  END IF;
  IF p_reason IS NULL OR length(btrim(p_reason)) = 0 OR length(p_reason) > 1000 THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'reason must be 1 to 1000 characters and not blank',
      DETAIL = '[{"field": "reason", "message": "must be 1 to 1000 characters and not blank"}]';
  END IF;
  IF p_kind = 'cancel' AND coalesce(p_mode, 'graceful') NOT IN ('graceful', 'immediate') THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'mode must be graceful or immediate';
  END IF;
  IF p_kind = 'rerun' AND (p_strategy IS NULL OR p_strategy NOT IN ('from_failure', 'all_steps')) THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'strategy must be from_failure or all_steps',
      DETAIL = '[{"field": "strategy", "message": "must be FROM_FAILURE or ALL_STEPS"}]';
  END IF;
  IF p_max_runs IS NULL OR p_max_runs < 1 THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'max_runs must be positive';
  END IF;
  IF p_excluded IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'a bulk operation needs a filter that constrains the runs',
      DETAIL = '[{"field": "where", "message": "must constrain the runs: an empty filter is refused"}]';
  END IF;
  IF NOT p_excluded THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'the filter matches every run of the organisation',
      DETAIL = '[{"field": "where", "message": "matches every run of the organisation: narrow it"}]';
  END IF;
  IF v_matched > p_max_runs THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003',
      MESSAGE = format('the filter matches more than %s runs, the limit of one bulk operation', p_max_runs),
      DETAIL = format('[{"field": "where", "message": "matches more than %s runs, the limit of one bulk operation: narrow it"}]',
                      p_max_runs);
  END IF;

  SELECT coalesce(array_agg(i ORDER BY i), '{}') INTO v_ids FROM unnest(p_trace_ids) i;
  PERFORM set_config('wg.bulk_sample', array_to_string(v_ids[1:10], ','), true);

  IF NOT coalesce(p_dry_run, false) THEN
    IF v_matched = 0 THEN
      RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = format('the filter matches no run that can be %s',
                                                                 CASE p_kind WHEN 'cancel' THEN 'cancelled' ELSE 're-run' END),
        DETAIL = '[{"field": "where", "message": "matches no run the operation can act on"}]';
    END IF;
    INSERT INTO bulk_operations (org_id, kind, reason, mode, strategy, channel, total, requested_by)
    VALUES (app_current_org_id(), p_kind, p_reason,
            CASE WHEN p_kind = 'cancel' THEN coalesce(p_mode, 'graceful') END,
            CASE WHEN p_kind = 'rerun' THEN p_strategy END,
            CASE WHEN p_kind = 'rerun' THEN p_channel END,
            v_matched, app_current_user_id())
    RETURNING id INTO v_id;
    INSERT INTO bulk_operation_runs (operation_id, org_id, trace_id)
    SELECT v_id, app_current_org_id(), i FROM unnest(v_ids) i;
  END IF;
  PERFORM set_config('wg.mutation_key', coalesce(v_id::text, ''), true);
  RETURN QUERY SELECT v_id, v_matched, coalesce(p_dry_run, false);
END
$$;

-- The worker's claim: the oldest open operation that no instance holds (its lease is absent or expired), now held by
-- p_worker for p_lease_seconds. Across organisations, so SECURITY DEFINER (like the sweeper); it is narrow: it only
-- moves a lease. NULL row when there is nothing to do.
CREATE FUNCTION claim_bulk_operation(p_worker text, p_lease_seconds integer)
RETURNS TABLE (operation_id bigint, org_id uuid, requested_by uuid, kind text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_op  bulk_operations%ROWTYPE;
BEGIN
  IF p_worker IS NULL OR length(p_worker) NOT BETWEEN 1 AND 200 OR p_lease_seconds IS NULL OR p_lease_seconds < 1 THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'a worker name and a positive lease are needed';
  END IF;
  SELECT * INTO v_op FROM bulk_operations b
   WHERE b.status <> 'completed' AND (b.lease_expires_at IS NULL OR b.lease_expires_at < clock_timestamp())
   ORDER BY b.requested_at, b.id
   LIMIT 1
   FOR UPDATE SKIP LOCKED;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  UPDATE bulk_operations b
     SET status = 'running', started_at = coalesce(b.started_at, clock_timestamp()), worker_name = p_worker,
         lease_expires_at = clock_timestamp() + make_interval(secs => p_lease_seconds)
   WHERE b.id = v_op.id;
  RETURN QUERY SELECT v_op.id, v_op.org_id, v_op.requested_by, v_op.kind;
END
$$;

-- One batch of an operation the caller holds (its lease, WF002 otherwise: another instance took it over), as the
-- tenant: up to p_batch_size runs still to do, locked with SKIP LOCKED, then the runs themselves (in id order). A
-- cancel ends or marks all the open ones in one call of cancel_workflow_executions (028, the single mutation's own
-- writes); a re-run calls rerun_workflow_execution per run. A run that can no longer be acted on (ended, or open
-- again for a re-run, gone, its channel disabled) is counted as failed with why. The outcomes, the progress and a
-- renewed lease commit together. With p_isolate each run has its own subtransaction, so a helper's unexpected error
-- fails that run only (the worker retries a failed batch that way, in small batches: the normal path takes no
-- subtransactions, which would overflow the per-backend cache past 64). Returns the operation's status and progress
-- after the batch, and what this batch did.
CREATE FUNCTION run_bulk_operation_batch(
  p_operation_id  bigint,
  p_worker        text,
  p_batch_size    integer,
  p_lease_seconds integer,
  p_isolate       boolean DEFAULT false
) RETURNS TABLE (status text, done integer, failed integer, total integer, batch_done integer, batch_failed integer)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_op       bulk_operations%ROWTYPE;
  v_batch    bigint[];
  v_run      record;
  v_channel  workflow_channel;
  v_error    text;
  v_act      bigint[] := '{}';
  v_done     bigint[] := '{}';
  v_failed   bigint[] := '{}';
  v_errors   text[] := '{}';
BEGIN
  IF p_batch_size IS NULL OR p_batch_size NOT BETWEEN 1 AND 10000 THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'batch size must be 1 to 10000';
  END IF;
  SELECT * INTO v_op FROM bulk_operations b WHERE b.id = p_operation_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'WF001', MESSAGE = format('bulk operation %s not found', p_operation_id);
  END IF;
  IF v_op.status = 'completed' THEN
    RETURN QUERY SELECT v_op.status, v_op.done, v_op.failed, v_op.total, 0, 0;
    RETURN;
  END IF;
  IF v_op.worker_name IS DISTINCT FROM p_worker OR v_op.lease_expires_at IS NULL OR v_op.lease_expires_at < clock_timestamp() THEN
    RAISE EXCEPTION USING ERRCODE = 'WF002',
      MESSAGE = format('bulk operation %s is not leased to %s (any more)', p_operation_id, p_worker);
  END IF;

  v_batch := ARRAY(SELECT r.trace_id FROM bulk_operation_runs r
                    WHERE r.operation_id = p_operation_id AND r.outcome IS NULL
                    ORDER BY r.trace_id
                    LIMIT p_batch_size
                    FOR UPDATE SKIP LOCKED);

  -- the runs are locked before they are checked, so the helpers find them as checked
  FOR v_run IN
    SELECT b.id, t.status, t.channel, t.workflow_id
      FROM unnest(v_batch) AS b (id)
      LEFT JOIN LATERAL (SELECT * FROM workflow_trace t WHERE t.id = b.id FOR NO KEY UPDATE) t ON true
     ORDER BY b.id
  LOOP
    v_error := NULL;
    IF v_run.status IS NULL THEN
      v_error := 'the run no longer exists';
    ELSIF v_op.kind = 'cancel' AND v_run.status NOT IN ('pending', 'active') THEN
      v_error := format('the run is already %s', v_run.status);
    ELSIF v_op.kind = 'rerun' AND v_run.status IN ('pending', 'active') THEN
      v_error := format('the run is %s; only a finished run can be re-run', v_run.status);
    ELSIF v_op.kind = 'rerun' AND v_op.strategy = 'from_failure' AND v_run.status = 'completed' THEN
      v_error := 'the run completed; there is no failure to resume from';
    ELSIF v_op.kind = 'rerun' THEN
      v_channel := coalesce(v_op.channel, v_run.channel);
      IF EXISTS (SELECT 1 FROM workflow_channel_configs w
                  WHERE w.workflow_id = v_run.workflow_id AND w.channel = v_channel AND NOT w.is_enabled) THEN
        v_error := format('channel %s is disabled for the run''s workflow', v_channel);
      END IF;
    END IF;
    IF v_error IS NULL THEN
      v_act := v_act || v_run.id;
    ELSE
      v_failed := v_failed || v_run.id;
      v_errors := v_errors || v_error;
    END IF;
  END LOOP;

  IF v_op.kind = 'cancel' AND NOT p_isolate THEN
    PERFORM cancel_workflow_executions(v_act, v_op.reason, v_op.mode);
    v_done := v_act;
  ELSE
    FOR v_run IN SELECT a.id FROM unnest(v_act) AS a (id) LOOP
      IF p_isolate THEN
        BEGIN
          PERFORM bulk_operation_act(v_op, v_run.id);
          v_done := v_done || v_run.id;
        EXCEPTION WHEN OTHERS THEN
          v_failed := v_failed || v_run.id;
          v_errors := v_errors || left(SQLERRM, 1000);
        END;
      ELSE
        PERFORM bulk_operation_act(v_op, v_run.id);
        v_done := v_done || v_run.id;
      END IF;
    END LOOP;
  END IF;

  DELETE FROM bulk_operation_runs r
   WHERE r.operation_id = p_operation_id AND r.trace_id = ANY (v_done);
  UPDATE bulk_operation_runs r SET outcome = 'failed', error = f.error
    FROM unnest(v_failed, v_errors) AS f (trace_id, error)
   WHERE r.operation_id = p_operation_id AND r.trace_id = f.trace_id;

  UPDATE bulk_operations b
     SET done = b.done + cardinality(v_done), failed = b.failed + cardinality(v_failed),
         lease_expires_at = clock_timestamp() + make_interval(secs => p_lease_seconds)
   WHERE b.id = p_operation_id
  RETURNING * INTO v_op;
  IF v_op.done + v_op.failed = v_op.total THEN
    UPDATE bulk_operations b
       SET status = 'completed', finished_at = clock_timestamp(), lease_expires_at = NULL
     WHERE b.id = p_operation_id
    RETURNING * INTO v_op;
  END IF;
  RETURN QUERY SELECT v_op.status, v_op.done, v_op.failed, v_op.total, cardinality(v_done), cardinality(v_failed);
END
$$;

-- What a bulk operation does to one run it checked and locked: what the single mutation does.
CREATE FUNCTION bulk_operation_act(p_op bulk_operations, p_trace_id bigint) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  IF p_op.kind = 'cancel' THEN
    PERFORM cancel_workflow_executions(ARRAY[p_trace_id], p_op.reason, p_op.mode);
  ELSE
    PERFORM rerun_workflow_execution(p_trace_id, p_op.strategy, p_op.channel, p_op.reason);
  END IF;
END
$$;

-- Gives an operation's lease back (an instance that stops between batches), so another instance resumes it at once.
CREATE FUNCTION release_bulk_operation(p_operation_id bigint, p_worker text) RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
  UPDATE bulk_operations SET lease_expires_at = NULL
   WHERE id = p_operation_id AND worker_name = p_worker AND status <> 'completed'
$$;

GRANT EXECUTE ON FUNCTION
  request_bulk_operation(text, bigint[], boolean, text, text, text, workflow_channel, boolean, integer),
  claim_bulk_operation(text, integer),
  run_bulk_operation_batch(bigint, text, integer, integer, boolean),
  bulk_operation_act(bulk_operations, bigint),
  release_bulk_operation(bigint, text)
  TO workflowgraph_app;
