-- Where a query stands in the event log, for WorkflowEvent.cursor of queried events.
--
-- pg_current_snapshot() leaves out the current transaction's own writes (its xid is running, or equals xmax), so a
-- cursor read in the transaction that wrote the event (a mutation's payload) would place the event after itself
-- and a replay from it would send it again. This is the same snapshot with the own transaction counted as
-- committed: xids between the old xmax and the own one are marked running (not seen), which only ever makes a
-- replay read more carefully, never skip.

CREATE FUNCTION workflow_events_position() RETURNS pg_snapshot
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN x IS NULL OR pg_visible_in_snapshot(x, s) THEN s ELSE (
           pg_snapshot_xmin(s)::text || ':'
           || greatest(pg_snapshot_xmax(s)::text::numeric, x::text::numeric + 1)::text || ':'
           || coalesce((SELECT string_agg(t::text, ',' ORDER BY t)
                          FROM (SELECT i::text::numeric AS t FROM pg_snapshot_xip(s) i WHERE i <> x
                                UNION
                                SELECT generate_series(pg_snapshot_xmax(s)::text::numeric, x::text::numeric - 1)) running), '')
         )::pg_snapshot END
    FROM pg_current_snapshot() s, pg_current_xact_id_if_assigned() x
$$;

GRANT EXECUTE ON FUNCTION workflow_events_position() TO workflowgraph_app;
