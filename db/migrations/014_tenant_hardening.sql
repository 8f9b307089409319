-- Hardening found in review.
--
-- 1. Functions name pg_temp last in their search_path. Without it PostgreSQL searches the caller's temporary
--    schema first, so a caller could shadow e.g. workflow_events_default or config_status with a temporary table
--    of its own and make a SECURITY DEFINER function (running as the owner) read or write it.
-- 2. The service role gets no temporary tables at all (it never needs them).
-- 3. A binding's target field is unique per organisation: a database-wide unique key answered "duplicate" for
--    another tenant's node and so revealed which of its fields are bound.

DO $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN
    SELECT p.oid::regprocedure
      FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'public'
       AND p.proowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
       AND p.proconfig @> ARRAY['search_path=pg_catalog, public']
  LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, public, pg_temp', f);
  END LOOP;
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;

ALTER TABLE workflow_data_bindings DROP CONSTRAINT workflow_data_bindings_target_node_id_target_field_key;
ALTER TABLE workflow_data_bindings ADD CONSTRAINT workflow_data_bindings_target_unique UNIQUE (org_id, target_node_id, target_field);
