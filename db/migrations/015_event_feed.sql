-- Reading the event log "from where I left off" without gaps or duplicates.
--
-- Ids are assigned at insert, not at commit, so "id > last id seen" misses an event whose transaction committed
-- after a later id was read. A reader's position is instead a snapshot: everything visible in it has been seen.
-- What is new since snapshot S is what the current statement sees but S did not: transactions at or after S's
-- xmin that S does not count as visible. Reading those rows together with the statement's own snapshot gives the
-- next position, so consecutive reads cover every committed event exactly once, whatever the commit order.
-- (With no rows, the reader keeps its position.)
--
-- A reader that stopped inside a batch (read since S_old, which returned position S_new, and it consumed rows up
-- to id N) resumes with (S_old, S_new, N): the rows of that batch after N, and everything that became visible
-- after S_new.

CREATE INDEX ix_workflow_events__org_tx ON workflow_events (org_id, tx_id);

CREATE FUNCTION workflow_events_since(
  p_since        pg_snapshot,
  p_upto         pg_snapshot DEFAULT NULL,
  p_after_id     bigint DEFAULT NULL,
  p_trace_id     bigint DEFAULT NULL,
  p_workflow_id  uuid DEFAULT NULL,
  p_event_types  text[] DEFAULT NULL
) RETURNS TABLE (next_position pg_snapshot, id bigint, org_id uuid, trace_id bigint, step_id bigint, event_type text,
                 event_data jsonb, tx_id xid8, created_at timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT pg_current_snapshot(), e.id, e.org_id, e.trace_id, e.step_id, e.event_type, e.event_data, e.tx_id, e.created_at
    FROM workflow_events e
   WHERE e.tx_id >= pg_snapshot_xmin(p_since)
     AND NOT pg_visible_in_snapshot(e.tx_id, p_since)
     AND (p_upto IS NULL OR NOT pg_visible_in_snapshot(e.tx_id, p_upto) OR e.id > p_after_id)
     AND (p_trace_id IS NULL OR e.trace_id = p_trace_id)
     AND (p_workflow_id IS NULL OR e.trace_id IN (SELECT t.id FROM workflow_trace t WHERE t.workflow_id = p_workflow_id))
     AND (p_event_types IS NULL OR e.event_type = ANY (p_event_types))
   ORDER BY e.id
$$;

GRANT EXECUTE ON FUNCTION workflow_events_since(pg_snapshot, pg_snapshot, bigint, bigint, uuid, text[]) TO workflowgraph_app;
