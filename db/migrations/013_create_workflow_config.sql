-- A new configuration version, optionally made the active one of its scope in the same transaction.
-- The version is assigned by tg_workflow_configs__assign_version; activation goes through
-- activate_workflow_config so config_status records who activated it.
CREATE FUNCTION create_workflow_config(
  p_workflow_id  uuid,
  p_channel      workflow_channel,
  p_config_type  config_type,
  p_name         text,
  p_description  text,
  p_config       jsonb,
  p_activate     boolean DEFAULT false
) RETURNS uuid
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_id uuid;
BEGIN
  IF p_config_type IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'config_type must not be null',
      DETAIL = '[{"field": "configType", "message": "is required"}]';
  END IF;
  IF p_config IS NULL OR jsonb_typeof(p_config) <> 'object' THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'config must be a JSON object',
      DETAIL = '[{"field": "config", "message": "must be a JSON object"}]';
  END IF;
  IF p_workflow_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM workflows WHERE id = p_workflow_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'WF001', MESSAGE = format('workflow %s not found', p_workflow_id);
  END IF;
  INSERT INTO workflow_configs (workflow_id, channel, config_type, name, description, config)
  VALUES (p_workflow_id, p_channel, p_config_type, p_name, p_description, p_config)
  RETURNING id INTO v_id;
  IF p_activate THEN
    PERFORM activate_workflow_config(v_id);
  END IF;
  RETURN v_id;
END
$$;

GRANT EXECUTE ON FUNCTION create_workflow_config(uuid, workflow_channel, config_type, text, text, jsonb, boolean) TO workflowgraph_app;
