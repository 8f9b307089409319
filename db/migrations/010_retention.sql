-- Retention. Whole event partitions are dropped where possible; rows are deleted only where a partition still
-- holds younger data or other tenants' rows.

-- Monthly partitions whose whole range ends at or before p_cutoff. Owner only: drops other tenants' data.
CREATE FUNCTION drop_workflow_event_partitions_before(p_cutoff timestamptz, p_only_empty boolean)
RETURNS TABLE (partition_name text, rows_dropped bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_part  record;
  v_rows  bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('workflow_events partitions'));
  FOR v_part IN
    SELECT c.relname
      FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'workflow_events'::regclass
       AND c.relname ~ '^workflow_events_p[0-9]{6}$'
       AND ((to_date(substr(c.relname, 18), 'YYYYMM') + interval '1 month')::timestamp AT TIME ZONE 'UTC') <= p_cutoff
     ORDER BY c.relname
  LOOP
    -- lock before counting, so no insert can land between the count and the drop
    EXECUTE format('LOCK TABLE public.%I IN ACCESS EXCLUSIVE MODE', v_part.relname);
    EXECUTE format('SELECT count(*) FROM public.%I', v_part.relname) INTO v_rows;
    CONTINUE WHEN p_only_empty AND v_rows > 0;
    EXECUTE format('DROP TABLE public.%I', v_part.relname);
    partition_name := v_part.relname;
    rows_dropped := v_rows;
    RETURN NEXT;
  END LOOP;
END
$$;

-- What a tenant may do: drop expired partitions that hold nothing (theirs or anyone's). The cutoff is held at
-- least a day in the past, so the partitions that current writes go to are never touched.
CREATE FUNCTION drop_empty_workflow_event_partitions_before(p_cutoff timestamptz)
RETURNS TABLE (partition_name text, rows_dropped bigint)
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$ SELECT * FROM drop_workflow_event_partitions_before(least(p_cutoff, now() - interval '1 day'), true) $$;

GRANT EXECUTE ON FUNCTION drop_empty_workflow_event_partitions_before(timestamptz) TO workflowgraph_app;

-- Removes finished runs (with their steps, context and events) that ended before now() - p_retention, and
-- expired event partitions. Never touches a run that is still open or ended inside the window.
-- Run by the service (RLS on): only the caller's organisation's rows; partitions only once empty.
-- Run by the owner (RLS off): every organisation, and expired partitions are dropped whole.
CREATE FUNCTION cleanup_old_execution_data(p_retention interval DEFAULT interval '90 days')
RETURNS TABLE (traces_deleted bigint, steps_deleted bigint, context_deleted bigint, events_deleted bigint,
               partitions_dropped text[])
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_cutoff  timestamptz;
  v_tenant  boolean := row_security_active('workflow_events');
  v_trace_ids bigint[];
  v_dropped bigint;
  v_rows    bigint;
BEGIN
  IF p_retention IS NULL OR p_retention < interval '1 day' THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'retention must be at least 1 day';
  END IF;
  v_cutoff := now() - p_retention;

  -- the owner drops whole expired partitions first, so the row deletes below find less to do
  partitions_dropped := '{}';
  v_dropped := 0;
  IF NOT v_tenant THEN
    SELECT coalesce(array_agg(partition_name), '{}'), coalesce(sum(rows_dropped), 0)
      INTO partitions_dropped, v_dropped FROM drop_workflow_event_partitions_before(v_cutoff, false);
    DELETE FROM workflow_events_default WHERE created_at < v_cutoff;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_dropped := v_dropped + v_rows;
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

GRANT EXECUTE ON FUNCTION cleanup_old_execution_data(interval) TO workflowgraph_app;
