-- phiAccessLog, the admins' read of phi_access_audit (037): each record's runs as rows of a view, so that the API's
-- list filter (runs: { some: { traceId: { eq: … } } }) and selection reach them, and indexes leading with org_id for
-- the time range and user filters (the primary key serves the default order, newest record first).

CREATE VIEW v_phi_access_audit_runs WITH (security_invoker = true) AS
SELECT a.org_id, a.seq, r.trace_id
  FROM phi_access_audit a
  CROSS JOIN LATERAL unnest(a.trace_ids) AS r(trace_id);

CREATE INDEX ix_phi_access_audit__org_time ON phi_access_audit (org_id, accessed_at);
CREATE INDEX ix_phi_access_audit__org_user ON phi_access_audit (org_id, user_id, accessed_at);

GRANT SELECT ON v_phi_access_audit_runs TO workflowgraph_app;
