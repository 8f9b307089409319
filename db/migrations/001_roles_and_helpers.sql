-- Roles and the small helpers every later migration uses.
-- The API never runs as the owner: each request transaction does `SET LOCAL ROLE workflowgraph_app`, a role that
-- owns nothing, cannot log in and cannot bypass row level security (PostGraphile's authenticator pattern).

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'workflowgraph_app') THEN
    CREATE ROLE workflowgraph_app NOLOGIN NOBYPASSRLS NOINHERIT;
  END IF;
  -- The migrating (owner) login must be able to switch to the service role.
  IF NOT pg_has_role(current_user, 'workflowgraph_app', 'MEMBER') THEN
    EXECUTE format('GRANT workflowgraph_app TO %I', current_user);
  END IF;
END
$$;

-- Functions are callable only where granted (each migration grants what the service needs).
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- The tenant of the current transaction; NULL (so: no rows) when unset or empty.
-- Plain SQL and STABLE so the planner inlines it and can use it as an index condition under RLS.
CREATE FUNCTION app_current_org_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('app.current_org_id', true), '')::uuid $$;

CREATE FUNCTION app_current_user_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('app.current_user_id', true), '')::uuid $$;

GRANT EXECUTE ON FUNCTION app_current_org_id(), app_current_user_id() TO workflowgraph_app;

CREATE FUNCTION tg__set_updated_at() RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public
AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
GRANT EXECUTE ON FUNCTION tg__set_updated_at() TO workflowgraph_app;
