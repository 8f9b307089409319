-- Retention drops no event rows it was not told were archived. The owner's cleanup drops expired event partitions of
-- every organisation whole; from here on it does so only when the caller says it archived them (p_archived => true, as
-- the service's `retention run` does after writing and syncing its Parquet files). Without that it drops the expired
-- partitions that are empty and refuses, changing nothing, when one still holds rows. The service role's path is
-- unchanged: it deletes its own organisation's runs and drops only partitions left empty, so it never needs the flag.
-- `retention run` journals every file it wrote in retention_archive_files, in the transaction that deletes the rows.

-- The monthly partitions whose whole range ends at or before p_cutoff: what the owner's cleanup drops. One definition
-- for the drop and for the archive that precedes it.
CREATE FUNCTION expired_workflow_event_partitions(p_cutoff timestamptz)
RETURNS TABLE (partition regclass)
LANGUAGE sql STABLE
SET search_path = pg_catalog, public
AS $$
  SELECT c.oid::regclass
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
   WHERE i.inhparent = 'public.workflow_events'::regclass
     AND c.relname ~ '^workflow_events_p[0-9]{6}$'
     AND ((to_date(substr(c.relname, 18), 'YYYYMM') + interval '1 month')::timestamp AT TIME ZONE 'UTC') <= p_cutoff
   ORDER BY c.relname
$$;

-- 010's drop, over the one definition above (same signature, same behaviour).
CREATE OR REPLACE FUNCTION drop_workflow_event_partitions_before(p_cutoff timestamptz, p_only_empty boolean)
RETURNS TABLE (partition_name text, rows_dropped bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_part  regclass;
  v_rows  bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('workflow_events partitions'));
  FOR v_part IN SELECT partition FROM expired_workflow_event_partitions(p_cutoff) LOOP
    -- lock before counting, so no insert can land between the count and the drop
    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', v_part);
    EXECUTE format('SELECT count(*) FROM %s', v_part) INTO v_rows;
    CONTINUE WHEN p_only_empty AND v_rows > 0;
    partition_name := (SELECT relname::text FROM pg_class WHERE oid = v_part);
    EXECUTE format('DROP TABLE %s', v_part);
    rows_dropped := v_rows;
    RETURN NEXT;
  END LOOP;
END
$$;

-- The files `retention run` wrote, each recorded in the transaction that deleted its rows: a file in the archive
-- directory that is not here belongs to a run that did not commit (its rows are still in the database) and is replaced
-- by the next run. Owner only: no policy and no grant for the service role.
CREATE TABLE retention_archive_files (
  file         text PRIMARY KEY CHECK (file ~ '^[0-9a-f-]{36}/retention-[0-9]{4}-[0-9]{2}-before-[0-9]{8}(-[0-9]+)?\.parquet$'),
  org_id       uuid NOT NULL,
  month        text NOT NULL CHECK (month ~ '^[0-9]{4}-[0-9]{2}$'),
  cutoff       timestamptz NOT NULL,
  row_count    bigint NOT NULL CHECK (row_count > 0),
  archived_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_retention_archive_files__org ON retention_archive_files (org_id, month);
ALTER TABLE retention_archive_files ENABLE ROW LEVEL SECURITY;

-- 010's cleanup with the archive flag. A new signature, so the old one goes; calls with one argument or none keep
-- working as before (the flag defaults to false).
DROP FUNCTION cleanup_old_execution_data(interval);

-- Removes finished runs (with their steps, context and events) that ended before now() - p_retention, and expired
-- event partitions. Never touches a run that is still open or ended inside the window.
-- Run by the service (RLS on): only the caller's organisation's rows; partitions only once empty.
-- Run by the owner (RLS off): every organisation's runs; expired partitions (and expired rows of the default partition)
-- go whole only with p_archived => true. Without it, a partition that still holds rows raises WF005 and nothing changes.
CREATE FUNCTION cleanup_old_execution_data(p_retention interval DEFAULT interval '90 days', p_archived boolean DEFAULT false)
RETURNS TABLE (traces_deleted bigint, steps_deleted bigint, context_deleted bigint, events_deleted bigint,
               partitions_dropped text[])
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_cutoff    timestamptz;
  v_tenant    boolean := row_security_active('workflow_events');
  v_trace_ids bigint[];
  v_dropped   bigint;
  v_rows      bigint;
  v_kept      text;
BEGIN
  IF p_retention IS NULL OR p_retention < interval '1 day' THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'retention must be at least 1 day';
  END IF;
  IF p_archived IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'p_archived must be true or false';
  END IF;
  v_cutoff := now() - p_retention;

  -- the owner drops whole expired partitions first, so the row deletes below find less to do
  partitions_dropped := '{}';
  v_dropped := 0;
  IF NOT v_tenant THEN
    SELECT coalesce(array_agg(partition_name), '{}'), coalesce(sum(rows_dropped), 0)
      INTO partitions_dropped, v_dropped FROM drop_workflow_event_partitions_before(v_cutoff, NOT p_archived);
    IF NOT p_archived THEN
      -- what is left expired holds rows (the drop above locked and counted each): refuse, so nothing is dropped
      SELECT string_agg(partition::text, ', ') INTO v_kept FROM expired_workflow_event_partitions(v_cutoff);
      IF v_kept IS NULL AND EXISTS (SELECT 1 FROM workflow_events_default WHERE created_at < v_cutoff) THEN
        v_kept := 'workflow_events_default';
      END IF;
      IF v_kept IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'WF005',
          MESSAGE = format('expired event partitions hold rows that were not archived: %s', v_kept),
          HINT = 'Archive them with the service''s `retention run` (README, Retention archives), which then drops them '
                 'with p_archived => true; nothing was deleted.';
      END IF;
    ELSE
      DELETE FROM workflow_events_default WHERE created_at < v_cutoff;
      GET DIAGNOSTICS v_rows = ROW_COUNT;
      v_dropped := v_dropped + v_rows;
    END IF;
  END IF;

  SELECT coalesce(array_agg(id), '{}') INTO v_trace_ids
    FROM (SELECT id FROM workflow_trace
           WHERE status NOT IN ('pending', 'active') AND end_time < v_cutoff
             FOR UPDATE) doomed;

  SELECT count(*) INTO events_deleted FROM workflow_events WHERE trace_id = ANY (v_trace_ids);
  SELECT count(*) INTO context_deleted FROM workflow_trace_context WHERE trace_id = ANY (v_trace_ids);
  SELECT count(*) INTO steps_deleted FROM workflow_steps WHERE trace_id = ANY (v_trace_ids);
  -- steps, context and events follow through ON DELETE CASCADE (the service may not delete events itself)
  DELETE FROM workflow_trace WHERE id = ANY (v_trace_ids);
  GET DIAGNOSTICS traces_deleted = ROW_COUNT;

  -- a tenant's deletes may have emptied expired partitions; those go too
  IF v_tenant THEN
    SELECT coalesce(array_agg(partition_name), '{}') INTO partitions_dropped
      FROM drop_empty_workflow_event_partitions_before(v_cutoff);
  END IF;

  events_deleted := events_deleted + v_dropped;
  RETURN NEXT;
END
$$;

GRANT EXECUTE ON FUNCTION cleanup_old_execution_data(interval, boolean) TO workflowgraph_app;
