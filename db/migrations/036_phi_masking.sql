-- PHI masking: every PHI or PII value the API returns passes through one of these functions, which the service's JSON
-- emit (src/WorkflowGraph/Querying/Emit/ObjectSql.cs) wraps around each JSON column and each identifier column
-- (external_id, error_message). A transaction whose caller's token carries the phi:read scope sets
-- app.phi_read = 'on' (RequestDatabase); without it every classified value reads as "[REDACTED]". The functions run as
-- the caller, so the classification they read is the caller's organisation's (RLS).

-- Plain SQL without SET so the planner inlines it (a per-row call would cost what the check saves).
CREATE FUNCTION phi_read_allowed() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT coalesce(current_setting('app.phi_read', true), '') = 'on' $$;

-- True when the organisation classified this identifier column as PHI or PII.
CREATE FUNCTION phi_column_classified(p_column text) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, public
AS $$
  SELECT EXISTS (SELECT 1 FROM phi_classification_rules
                  WHERE org_id = app_current_org_id() AND target = 'column' AND key = p_column AND sensitivity <> 'none')
$$;

CREATE FUNCTION phi_mask_text(p_column text, p_value text) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, public
AS $$
  SELECT CASE WHEN p_value IS NULL OR phi_read_allowed() OR NOT phi_column_classified(p_column) THEN p_value
              ELSE '[REDACTED]' END
$$;

-- A step's input or output: fields classified PHI or PII are redacted; when the node has a PHI field, so is every
-- field nobody classified (the safe default), and a value that is not an object is redacted whole.
CREATE FUNCTION phi_mask_node_data(p_node_id integer, p_direction text, p_data jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_sensitive boolean;
  v_phi       boolean;
  v_masked    jsonb;
BEGIN
  IF p_data IS NULL OR phi_read_allowed() THEN
    RETURN p_data;
  END IF;
  SELECT coalesce(bool_or(sensitivity <> 'none'), false), coalesce(bool_or(sensitivity = 'phi'), false)
    INTO v_sensitive, v_phi
    FROM node_io_requirements WHERE node_id = p_node_id;
  IF NOT v_sensitive THEN
    RETURN p_data;
  END IF;
  IF jsonb_typeof(p_data) <> 'object' THEN
    RETURN CASE WHEN v_phi AND p_data <> 'null'::jsonb THEN '"[REDACTED]"'::jsonb ELSE p_data END;
  END IF;
  SELECT coalesce(jsonb_object_agg(e.key,
           CASE WHEN coalesce(r.sensitivity, CASE WHEN v_phi THEN 'phi' ELSE 'none' END) = 'none' THEN e.value
                ELSE '"[REDACTED]"'::jsonb END), '{}')
    INTO v_masked
    FROM jsonb_each(p_data) e
    LEFT JOIN node_io_requirements r ON r.node_id = p_node_id AND r.direction = p_direction AND r.field_name = e.key;
  RETURN v_masked;
END
$$;

CREATE FUNCTION phi_mask_context(p_key text, p_value jsonb) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, public
AS $$
  SELECT CASE WHEN p_value IS NULL OR phi_read_allowed()
                   OR NOT EXISTS (SELECT 1 FROM phi_classification_rules
                                   WHERE org_id = app_current_org_id() AND target = 'context_key' AND key = p_key
                                     AND sensitivity <> 'none')
              THEN p_value ELSE '"[REDACTED]"'::jsonb END
$$;

-- A configuration or a run's config_snapshot: its classified top-level keys are redacted.
CREATE FUNCTION phi_mask_config(p_config jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_masked jsonb;
BEGIN
  IF p_config IS NULL OR phi_read_allowed() OR jsonb_typeof(p_config) <> 'object'
     OR NOT EXISTS (SELECT 1 FROM phi_classification_rules
                     WHERE org_id = app_current_org_id() AND target = 'config_key' AND sensitivity <> 'none') THEN
    RETURN p_config;
  END IF;
  SELECT coalesce(jsonb_object_agg(e.key, CASE WHEN r.key IS NULL THEN e.value ELSE '"[REDACTED]"'::jsonb END), '{}')
    INTO v_masked
    FROM jsonb_each(p_config) e
    LEFT JOIN phi_classification_rules r
      ON r.org_id = app_current_org_id() AND r.target = 'config_key' AND r.key = e.key AND r.sensitivity <> 'none';
  RETURN v_masked;
END
$$;

-- An event's event_data. Keys that describe state only are shown; external_id follows the external_id column's rule;
-- free text (error_message, previous_error, reason) follows error_message's; any other key — one a new event brings
-- before it is added here — is redacted (the safe default). Null values carry nothing and stay null.
CREATE FUNCTION phi_mask_event(p_data jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_external boolean;
  v_text     boolean;
  v_masked   jsonb;
BEGIN
  IF p_data IS NULL OR phi_read_allowed() THEN
    RETURN p_data;
  END IF;
  IF jsonb_typeof(p_data) <> 'object' THEN
    RETURN '"[REDACTED]"'::jsonb;
  END IF;
  v_external := phi_column_classified('external_id');
  v_text := phi_column_classified('error_message');
  SELECT coalesce(jsonb_object_agg(e.key, CASE
           WHEN e.key IN ('status', 'channel', 'duration_ms', 'retry_count', 'node_id', 'step_number', 'key', 'created',
                          'previous_status') THEN e.value
           WHEN e.value = 'null'::jsonb THEN e.value
           WHEN e.key = 'external_id' AND NOT v_external THEN e.value
           WHEN e.key IN ('error_message', 'previous_error', 'reason') AND NOT v_text THEN e.value
           ELSE '"[REDACTED]"'::jsonb END), '{}')
    INTO v_masked
    FROM jsonb_each(p_data) e;
  RETURN v_masked;
END
$$;

-- A JSON column nobody classified: redacted whole (the emit uses it for any JSON column an entity map does not classify).
CREATE FUNCTION phi_mask_unclassified(p_value jsonb) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, public
AS $$ SELECT CASE WHEN p_value IS NULL OR phi_read_allowed() THEN p_value ELSE '"[REDACTED]"'::jsonb END $$;

-- Filtering or sorting by an identifier column the organisation classified, without phi:read, would reveal it
-- (a filter is an oracle): refused with WFP01, which the service reports as FORBIDDEN.
CREATE FUNCTION phi_guard_column(p_column text) RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
AS $$
BEGIN
  IF NOT phi_read_allowed() AND phi_column_classified(p_column) THEN
    RAISE EXCEPTION USING ERRCODE = 'WFP01',
      MESSAGE = format('filtering or sorting by %s needs the phi:read scope: the organisation classifies it as PHI', p_column);
  END IF;
  RETURN true;
END
$$;

GRANT EXECUTE ON FUNCTION phi_read_allowed(), phi_column_classified(text), phi_mask_text(text, text),
  phi_mask_node_data(integer, text, jsonb), phi_mask_context(text, jsonb), phi_mask_config(jsonb), phi_mask_event(jsonb),
  phi_mask_unclassified(jsonb), phi_guard_column(text) TO workflowgraph_app;
