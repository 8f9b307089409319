-- The organisation's PHI classification, read once per statement by every masked read (the emit wraps each lookup in
-- an initplan), cost PostgreSQL ~70 µs per lookup as a SQL-language function: with SET search_path it is never
-- inlined, and a SQL function that is not inlined is planned again on every call. As plpgsql its plan is kept for
-- the connection (the service's pooled connections live on between requests): ~10 µs. Measured with pgbench on a
-- trace detail's context subquery (org 1 of the benchmark's 100k runs, PostgreSQL CPU per transaction): 0.26–0.31 ms
-- before, 0.19–0.23 ms after. Same results, same rules (036, 040); they still run as the caller, so RLS confines them
-- to the caller's organisation. No SET search_path: every name is schema-qualified instead (a SECURITY INVOKER
-- function gains no privilege from a caller's search_path, and qualified names cannot be shadowed).

CREATE OR REPLACE FUNCTION phi_column_classified(p_column text) RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM public.phi_classification_rules r
                  WHERE r.org_id = public.app_current_org_id() AND r.target = 'column' AND r.key = p_column
                    AND r.sensitivity <> 'none');
END
$$;
ALTER FUNCTION phi_column_classified(text) RESET ALL;

CREATE OR REPLACE FUNCTION phi_classified_keys(p_target text) RETURNS text[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
  RETURN ARRAY(SELECT r.key FROM public.phi_classification_rules r
                WHERE r.org_id = public.app_current_org_id() AND r.target = p_target AND r.sensitivity <> 'none');
END
$$;
ALTER FUNCTION phi_classified_keys(text) RESET ALL;

CREATE OR REPLACE FUNCTION phi_sensitive_nodes() RETURNS integer[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
  RETURN ARRAY(SELECT DISTINCT n.node_id FROM public.node_io_requirements n
                WHERE n.org_id = public.app_current_org_id() AND n.sensitivity <> 'none');
END
$$;
ALTER FUNCTION phi_sensitive_nodes() RESET ALL;
