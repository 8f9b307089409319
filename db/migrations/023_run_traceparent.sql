-- The W3C trace context of the request that started a run, so that a run found in the database (or through the API)
-- leads to the trace of the bot that started it. The service sets the transaction-local `app.traceparent` while it
-- traces a request (src/WorkflowGraph/Database/RequestDatabase.cs); a run inserted then records it. Telemetry never
-- fails a write: a value that is not a well-formed traceparent is not recorded.

ALTER TABLE workflow_trace ADD COLUMN traceparent text
  CONSTRAINT ck_workflow_trace__traceparent CHECK (traceparent ~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$');

COMMENT ON COLUMN workflow_trace.traceparent IS
  'W3C traceparent of the traced request that started the run (app.traceparent at insert), if any';

CREATE FUNCTION tg_workflow_trace__record_traceparent() RETURNS trigger
  LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, public AS $$
DECLARE
  v_traceparent text := current_setting('app.traceparent', true);
BEGIN
  IF NEW.traceparent IS NULL
     AND v_traceparent ~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' THEN
    NEW.traceparent := v_traceparent;
  END IF;
  RETURN NEW;
END;
$$;

GRANT EXECUTE ON FUNCTION tg_workflow_trace__record_traceparent() TO workflowgraph_app;

CREATE TRIGGER tg_workflow_trace__record_traceparent BEFORE INSERT ON workflow_trace
  FOR EACH ROW EXECUTE FUNCTION tg_workflow_trace__record_traceparent();
