-- Tenancy: every tenant table is visible to the service role only for the organisation in
-- `app.current_org_id`; unset means no rows. Policies first, grants after.
-- Policies name workflowgraph_app only: any other non-owner role gets no policy and therefore no rows.

ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
CREATE POLICY organizations__tenant ON organizations TO workflowgraph_app
  USING (id = app_current_org_id());

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'users', 'workflows', 'workflow_nodes',
    'workflow_configs', 'channel_configs', 'workflow_channel_configs', 'node_io_requirements',
    'workflow_data_bindings', 'config_status',
    'workflow_trace', 'workflow_steps', 'workflow_trace_context', 'workflow_events']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY %I ON %I TO workflowgraph_app
                      USING (org_id = app_current_org_id()) WITH CHECK (org_id = app_current_org_id())',
                   t || '__tenant', t);
  END LOOP;
END
$$;

GRANT USAGE ON SCHEMA public TO workflowgraph_app;
GRANT SELECT ON organizations TO workflowgraph_app;
GRANT SELECT, INSERT, UPDATE ON users TO workflowgraph_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON
  workflows, workflow_nodes, workflow_configs, channel_configs, workflow_channel_configs,
  node_io_requirements, workflow_data_bindings
  TO workflowgraph_app;
-- written only by triggers
GRANT SELECT ON config_status TO workflowgraph_app;
-- execution rows change through the helper functions, which run as the caller so RLS applies to them too;
-- DELETE serves retention (cleanup_old_execution_data) and cascades to the event log.
GRANT SELECT, INSERT, UPDATE, DELETE ON workflow_trace, workflow_steps, workflow_trace_context TO workflowgraph_app;
-- the event log is append-only for the service
GRANT SELECT, INSERT ON workflow_events TO workflowgraph_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO workflowgraph_app;
