-- Configuration helpers.

-- The configuration a run of this workflow on this channel uses: channel-specific before workflow-wide before
-- the organisation's global one. No row when none is active.
CREATE FUNCTION get_active_workflow_config(p_workflow_id uuid, p_channel workflow_channel DEFAULT NULL)
RETURNS SETOF workflow_configs
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_org_id uuid;
BEGIN
  IF p_workflow_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'workflow_id must not be null';
  END IF;
  SELECT org_id INTO v_org_id FROM workflows WHERE id = p_workflow_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'WF001', MESSAGE = format('workflow %s not found', p_workflow_id);
  END IF;
  RETURN QUERY
    SELECT c.*
      FROM workflow_configs c
     WHERE c.org_id = v_org_id
       AND c.is_active
       AND (   (c.workflow_id = p_workflow_id AND c.channel = p_channel)
            OR (c.workflow_id = p_workflow_id AND c.channel IS NULL)
            OR (c.workflow_id IS NULL AND c.channel IS NULL))
     ORDER BY c.channel IS NULL, c.workflow_id IS NULL
     LIMIT 1;
END
$$;

-- Makes one version the active one of its scope (deactivating the previous one); config_status records who and
-- when through its trigger. Activating the active version changes nothing.
CREATE FUNCTION activate_workflow_config(p_config_id uuid) RETURNS SETOF workflow_configs
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_config workflow_configs%ROWTYPE;
BEGIN
  IF p_config_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'config_id must not be null';
  END IF;
  SELECT * INTO v_config FROM workflow_configs WHERE id = p_config_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'WF001', MESSAGE = format('workflow config %s not found', p_config_id);
  END IF;
  -- one activation per scope at a time
  PERFORM pg_advisory_xact_lock(hashtext(concat_ws('/', 'workflow_configs', v_config.org_id,
                                                   v_config.workflow_id, v_config.channel)));
  IF NOT v_config.is_active THEN
    UPDATE workflow_configs SET is_active = false
     WHERE org_id = v_config.org_id
       AND workflow_id IS NOT DISTINCT FROM v_config.workflow_id
       AND channel IS NOT DISTINCT FROM v_config.channel
       AND is_active;
    UPDATE workflow_configs SET is_active = true WHERE id = p_config_id;
  END IF;
  RETURN QUERY SELECT * FROM workflow_configs WHERE id = p_config_id;
END
$$;

GRANT EXECUTE ON FUNCTION
  get_active_workflow_config(uuid, workflow_channel),
  activate_workflow_config(uuid)
  TO workflowgraph_app;
