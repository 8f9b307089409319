-- The cost of masking (036, 038): every masking function was plpgsql or carried SET search_path, so PostgreSQL called
-- it once per value, and each call looked the organisation's classification up again and rebuilt the whole JSON.
-- The service's emit (Querying/Model/PhiMask) now calls the forms below, which take the classification as arguments:
-- it passes each one as an uncorrelated scalar subquery, `(SELECT phi_column_classified('external_id'))`, which
-- PostgreSQL runs once per statement (an init plan, and only when a masked value needs it), not once per row. The
-- forms are plain LANGUAGE sql STABLE without SET and without subqueries, so the planner inlines them into the
-- statement: a value that needs no masking (an event with state keys only, a node without sensitive fields, an
-- unclassified key) costs an expression, no function call. Only a value with something to redact reaches a worker
-- function, which lays "[REDACTED]" over the classified keys (jsonb ||) instead of rebuilding the whole object. The
-- workers are plpgsql on purpose: a SQL function that is not inlined is planned again in every statement, plpgsql
-- keeps its plans for the connection (measured: a SQL-language node worker made the trace detail 3x slower).
-- Names are schema-qualified because an inlined body runs with the caller's search_path. The rules are 036's and
-- 038's, unchanged (the one-argument forms stay for other callers); tests/WorkflowGraph.Tests/Phi are their proof.
-- These forms mask unconditionally: the caller has decided that the reader may not see PHI.

-- The organisation's classified keys of one target (context_key, config_key).
CREATE FUNCTION phi_classified_keys(p_target text) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
  SELECT ARRAY(SELECT key FROM phi_classification_rules
                WHERE org_id = app_current_org_id() AND target = p_target AND sensitivity <> 'none')
$$;

-- The organisation's nodes with a sensitive (PHI or PII) field: any other node's data is shown as it is.
CREATE FUNCTION phi_sensitive_nodes() RETURNS integer[]
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
  SELECT ARRAY(SELECT DISTINCT node_id FROM node_io_requirements
                WHERE org_id = app_current_org_id() AND sensitivity <> 'none')
$$;

CREATE FUNCTION phi_mask_text(p_value text, p_classified boolean) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN p_value IS NULL OR NOT p_classified THEN p_value ELSE '[REDACTED]' END $$;

CREATE FUNCTION phi_mask_context(p_key text, p_value jsonb, p_keys text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN p_value IS NULL OR NOT (p_key = ANY (p_keys)) THEN p_value ELSE '"[REDACTED]"'::jsonb END $$;

CREATE FUNCTION phi_redact_config_keys(p_config jsonb, p_keys text[]) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
BEGIN
  RETURN p_config || coalesce((SELECT jsonb_object_agg(k, '"[REDACTED]"'::jsonb) FROM unnest(p_keys) k WHERE p_config ? k), '{}');
END
$$;

CREATE FUNCTION phi_mask_config(p_config jsonb, p_keys text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN p_config IS NULL OR pg_catalog.jsonb_typeof(p_config) <> 'object' OR NOT (p_config OPERATOR(pg_catalog.?|) p_keys)
              THEN p_config ELSE public.phi_redact_config_keys(p_config, p_keys) END
$$;

-- A step's input or output of a node with a sensitive field (036's rules): its PHI and PII fields, and when the node has
-- a PHI field every field nobody classified, are redacted; a value that is not an object is redacted whole.
CREATE FUNCTION phi_redact_node_data(p_node_id integer, p_direction text, p_data jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_sensitive boolean;
  v_phi       boolean;
BEGIN
  SELECT coalesce(bool_or(sensitivity <> 'none'), false), coalesce(bool_or(sensitivity = 'phi'), false)
    INTO v_sensitive, v_phi
    FROM node_io_requirements WHERE node_id = p_node_id;
  IF NOT v_sensitive THEN
    RETURN p_data;
  END IF;
  IF jsonb_typeof(p_data) <> 'object' THEN
    RETURN CASE WHEN v_phi AND p_data <> 'null'::jsonb THEN '"[REDACTED]"'::jsonb ELSE p_data END;
  END IF;
  RETURN p_data || coalesce((
    SELECT jsonb_object_agg(e.key, '"[REDACTED]"'::jsonb)
      FROM jsonb_each(p_data) e
      LEFT JOIN node_io_requirements r ON r.node_id = p_node_id AND r.direction = p_direction AND r.field_name = e.key
     WHERE coalesce(r.sensitivity::text, CASE WHEN v_phi THEN 'phi' ELSE 'none' END) <> 'none'), '{}');
END
$$;

CREATE FUNCTION phi_mask_node_data(p_node_id integer, p_direction text, p_data jsonb, p_sensitive_nodes integer[]) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN p_data IS NULL OR NOT (p_node_id = ANY (p_sensitive_nodes)) THEN p_data
              ELSE public.phi_redact_node_data(p_node_id, p_direction, p_data) END
$$;

-- The event data keys that describe state only (036 and 038's list).
CREATE FUNCTION phi_event_state_keys() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT '{status,channel,duration_ms,retry_count,node_id,step_number,key,created,previous_status,mode,by,requested_by,'
         'worker_name,lease_expires_at,priority,not_before,attempt,strategy,resume_from_step_number,rerun_of,rerun_trace_id,'
         'from_trace_id}'::text[]
$$;

-- An event's data by 038's rules: state keys shown, external_id by the external_id column's rule (p_external), free text
-- (error_message, previous_error, reason, cancel_reason) by error_message's (p_text), null values as they are, any
-- other key redacted.
CREATE FUNCTION phi_redact_event_keys(p_data jsonb, p_external boolean, p_text boolean) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
BEGIN
  RETURN p_data || coalesce((
    SELECT jsonb_object_agg(e.key, '"[REDACTED]"'::jsonb)
      FROM jsonb_each(p_data - phi_event_state_keys()) e
     WHERE e.value <> 'null'::jsonb
       AND NOT (e.key = 'external_id' AND NOT p_external)
       AND NOT (e.key IN ('error_message', 'previous_error', 'reason', 'cancel_reason') AND NOT p_text)), '{}');
END
$$;

CREATE FUNCTION phi_mask_event(p_data jsonb, p_external boolean, p_text boolean) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN p_data IS NULL THEN p_data
              WHEN pg_catalog.jsonb_typeof(p_data) <> 'object' THEN '"[REDACTED]"'::jsonb
              -- only state keys: nothing to redact
              WHEN (p_data OPERATOR(pg_catalog.-) public.phi_event_state_keys()) = '{}'::jsonb THEN p_data
              ELSE public.phi_redact_event_keys(p_data, p_external, p_text) END
$$;

GRANT EXECUTE ON FUNCTION phi_classified_keys(text), phi_sensitive_nodes(), phi_mask_text(text, boolean),
  phi_mask_context(text, jsonb, text[]), phi_redact_config_keys(jsonb, text[]), phi_mask_config(jsonb, text[]),
  phi_redact_node_data(integer, text, jsonb), phi_mask_node_data(integer, text, jsonb, integer[]),
  phi_redact_event_keys(jsonb, boolean, boolean), phi_event_state_keys(), phi_mask_event(jsonb, boolean, boolean)
  TO workflowgraph_app;
