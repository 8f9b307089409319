-- Live delivery: every event announces itself on channel `workflow_events` with ids only. The payload never
-- travels through NOTIFY (8000-byte limit, and NOTIFY ignores RLS); listeners reload the row as the tenant.

CREATE FUNCTION tg_workflow_events__notify() RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public
AS $$
BEGIN
  PERFORM pg_notify('workflow_events',
                    json_build_object('id', NEW.id, 'trace_id', NEW.trace_id, 'org_id', NEW.org_id,
                                      'type', NEW.event_type)::text);
  RETURN NULL;
END
$$;
GRANT EXECUTE ON FUNCTION tg_workflow_events__notify() TO workflowgraph_app;

CREATE TRIGGER tg_workflow_events__notify AFTER INSERT ON workflow_events
  FOR EACH ROW EXECUTE FUNCTION tg_workflow_events__notify();
