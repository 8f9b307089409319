-- Configuration: versioned workflow configs, organisation channel settings, per-workflow channel settings,
-- node input/output contracts, data bindings between nodes, and the activation record of each config.

CREATE TABLE workflow_configs (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id       uuid NOT NULL DEFAULT app_current_org_id() REFERENCES organizations (id) ON DELETE CASCADE,
  workflow_id  uuid,
  channel      workflow_channel,
  config_type  config_type NOT NULL,
  version      integer NOT NULL CHECK (version > 0),
  name         text,
  description  text,
  config       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
  is_active    boolean NOT NULL DEFAULT false,
  created_by   uuid DEFAULT app_current_user_id(),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (workflow_id, org_id) REFERENCES workflows (id, org_id) ON DELETE CASCADE,
  CONSTRAINT workflow_configs_scope_matches_type CHECK (
       (config_type = 'global'   AND workflow_id IS NULL     AND channel IS NULL)
    OR (config_type = 'workflow' AND workflow_id IS NOT NULL AND channel IS NULL)
    OR (config_type = 'channel'  AND workflow_id IS NOT NULL AND channel IS NOT NULL)),
  CONSTRAINT workflow_configs_version_unique UNIQUE NULLS NOT DISTINCT (org_id, workflow_id, channel, version)
);
-- At most one active version per scope (organisation, workflow or none, channel or none).
CREATE UNIQUE INDEX ux_workflow_configs__one_active
  ON workflow_configs (org_id, workflow_id, channel) NULLS NOT DISTINCT WHERE is_active;
CREATE INDEX ix_workflow_configs__workflow ON workflow_configs (workflow_id, org_id);

-- A new config without a version gets the next one in its scope.
CREATE FUNCTION tg_workflow_configs__assign_version() RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public
AS $$
BEGIN
  IF NEW.version IS NULL THEN
    SELECT coalesce(max(c.version), 0) + 1 INTO NEW.version
      FROM workflow_configs c
     WHERE c.org_id = NEW.org_id
       AND c.workflow_id IS NOT DISTINCT FROM NEW.workflow_id
       AND c.channel IS NOT DISTINCT FROM NEW.channel;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER tg_workflow_configs__assign_version BEFORE INSERT ON workflow_configs
  FOR EACH ROW EXECUTE FUNCTION tg_workflow_configs__assign_version();

CREATE TABLE channel_configs (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id      uuid NOT NULL DEFAULT app_current_org_id() REFERENCES organizations (id) ON DELETE CASCADE,
  channel     workflow_channel NOT NULL,
  name        text,
  config      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
  is_active   boolean NOT NULL DEFAULT true,
  created_by  uuid DEFAULT app_current_user_id(),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, channel)
);

CREATE TABLE workflow_channel_configs (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id       uuid NOT NULL DEFAULT app_current_org_id(),
  workflow_id  uuid NOT NULL,
  channel      workflow_channel NOT NULL,
  is_enabled   boolean NOT NULL DEFAULT true,
  priority     integer NOT NULL DEFAULT 100 CHECK (priority >= 0),
  webhook_url  text CHECK (webhook_url ~ '^https?://[^\s]+$'),
  settings     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
  created_by   uuid DEFAULT app_current_user_id(),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (workflow_id, org_id) REFERENCES workflows (id, org_id) ON DELETE CASCADE,
  UNIQUE (workflow_id, channel)
);
CREATE INDEX ix_workflow_channel_configs__org ON workflow_channel_configs (org_id, workflow_id);

CREATE TABLE node_io_requirements (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id            uuid NOT NULL DEFAULT app_current_org_id(),
  node_id           integer NOT NULL,
  direction         text NOT NULL CHECK (direction IN ('input', 'output')),
  field_name        text NOT NULL CHECK (field_name ~ '^[A-Za-z_][A-Za-z0-9_.-]*$'),
  field_type        text NOT NULL CHECK (field_type IN ('string', 'number', 'integer', 'boolean', 'object', 'array', 'any')),
  is_required       boolean NOT NULL DEFAULT false,
  default_value     jsonb,
  validation_rules  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(validation_rules) = 'object'),
  description       text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (node_id, org_id) REFERENCES workflow_nodes (id, org_id) ON DELETE CASCADE,
  UNIQUE (node_id, direction, field_name)
);
CREATE INDEX ix_node_io_requirements__org ON node_io_requirements (org_id, node_id);

CREATE TABLE workflow_data_bindings (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id            uuid NOT NULL DEFAULT app_current_org_id(),
  workflow_id       uuid NOT NULL,
  source_node_id    integer,
  source_field      text,
  target_node_id    integer NOT NULL,
  target_field      text NOT NULL CHECK (length(target_field) > 0),
  binding_type      text NOT NULL DEFAULT 'direct' CHECK (binding_type IN ('direct', 'transform', 'constant', 'context')),
  transform_config  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(transform_config) = 'object'),
  is_active         boolean NOT NULL DEFAULT true,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (workflow_id, org_id) REFERENCES workflows (id, org_id) ON DELETE CASCADE,
  FOREIGN KEY (source_node_id, workflow_id) REFERENCES workflow_nodes (id, workflow_id) ON DELETE CASCADE,
  FOREIGN KEY (target_node_id, workflow_id) REFERENCES workflow_nodes (id, workflow_id) ON DELETE CASCADE,
  -- direct and transform bindings read a field of another node; constant and context bindings do not.
  CONSTRAINT workflow_data_bindings_source_matches_type CHECK (
    (binding_type IN ('direct', 'transform')) = (source_node_id IS NOT NULL AND source_field IS NOT NULL)),
  CONSTRAINT workflow_data_bindings_no_self_loop CHECK (source_node_id IS DISTINCT FROM target_node_id),
  UNIQUE (target_node_id, target_field)
);
CREATE INDEX ix_workflow_data_bindings__workflow ON workflow_data_bindings (org_id, workflow_id);
CREATE INDEX ix_workflow_data_bindings__source ON workflow_data_bindings (source_node_id, workflow_id);
CREATE INDEX ix_workflow_data_bindings__target_wf ON workflow_data_bindings (target_node_id, workflow_id);

-- Which configuration entity is active, who activated it and when. Written by triggers on the config tables so
-- it can never disagree with them.
CREATE TABLE config_status (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  entity_type     text NOT NULL CHECK (entity_type IN ('workflow_config', 'channel_config', 'workflow_channel_config')),
  entity_id       uuid NOT NULL,
  is_active       boolean NOT NULL,
  activated_by    uuid,
  activated_at    timestamptz,
  deactivated_by  uuid,
  deactivated_at  timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (entity_type, entity_id)
);
CREATE INDEX ix_config_status__org ON config_status (org_id, entity_type);

-- TG_ARGV[0]: entity_type; TG_ARGV[1]: the boolean column that says "active".
-- SECURITY DEFINER so that the service role can read config_status but never write it directly.
CREATE FUNCTION tg__record_config_status() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_active boolean := (to_jsonb(NEW) ->> TG_ARGV[1])::boolean;
BEGIN
  IF TG_OP = 'UPDATE' AND (to_jsonb(OLD) ->> TG_ARGV[1])::boolean IS NOT DISTINCT FROM v_active THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' AND NOT v_active THEN
    RETURN NULL;  -- a draft that was never active has no status to record
  END IF;
  INSERT INTO config_status AS s (org_id, entity_type, entity_id, is_active,
                                  activated_by, activated_at, deactivated_by, deactivated_at)
  VALUES (NEW.org_id, TG_ARGV[0], NEW.id, v_active,
          CASE WHEN v_active THEN app_current_user_id() END, CASE WHEN v_active THEN now() END,
          CASE WHEN NOT v_active THEN app_current_user_id() END, CASE WHEN NOT v_active THEN now() END)
  ON CONFLICT (entity_type, entity_id) DO UPDATE SET
    is_active      = EXCLUDED.is_active,
    activated_by   = CASE WHEN EXCLUDED.is_active THEN EXCLUDED.activated_by ELSE s.activated_by END,
    activated_at   = CASE WHEN EXCLUDED.is_active THEN EXCLUDED.activated_at ELSE s.activated_at END,
    deactivated_by = CASE WHEN EXCLUDED.is_active THEN NULL ELSE EXCLUDED.deactivated_by END,
    deactivated_at = CASE WHEN EXCLUDED.is_active THEN NULL ELSE EXCLUDED.deactivated_at END;
  RETURN NULL;
END
$$;
GRANT EXECUTE ON FUNCTION tg__record_config_status() TO workflowgraph_app;
GRANT EXECUTE ON FUNCTION tg_workflow_configs__assign_version() TO workflowgraph_app;

CREATE TRIGGER tg_workflow_configs__record_status AFTER INSERT OR UPDATE OF is_active ON workflow_configs
  FOR EACH ROW EXECUTE FUNCTION tg__record_config_status('workflow_config', 'is_active');
CREATE TRIGGER tg_channel_configs__record_status AFTER INSERT OR UPDATE OF is_active ON channel_configs
  FOR EACH ROW EXECUTE FUNCTION tg__record_config_status('channel_config', 'is_active');
CREATE TRIGGER tg_workflow_channel_configs__record_status AFTER INSERT OR UPDATE OF is_enabled ON workflow_channel_configs
  FOR EACH ROW EXECUTE FUNCTION tg__record_config_status('workflow_channel_config', 'is_enabled');

-- Deleting a configuration entity removes its status row (no FK: config_status spans three tables).
CREATE FUNCTION tg__forget_config_status() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
  DELETE FROM config_status WHERE entity_type = TG_ARGV[0] AND entity_id = OLD.id;
  RETURN NULL;
END
$$;
GRANT EXECUTE ON FUNCTION tg__forget_config_status() TO workflowgraph_app;
CREATE TRIGGER tg_workflow_configs__forget_status AFTER DELETE ON workflow_configs
  FOR EACH ROW EXECUTE FUNCTION tg__forget_config_status('workflow_config');
CREATE TRIGGER tg_channel_configs__forget_status AFTER DELETE ON channel_configs
  FOR EACH ROW EXECUTE FUNCTION tg__forget_config_status('channel_config');
CREATE TRIGGER tg_workflow_channel_configs__forget_status AFTER DELETE ON workflow_channel_configs
  FOR EACH ROW EXECUTE FUNCTION tg__forget_config_status('workflow_channel_config');

CREATE TRIGGER tg_workflow_configs__set_updated_at BEFORE UPDATE ON workflow_configs
  FOR EACH ROW EXECUTE FUNCTION tg__set_updated_at();
CREATE TRIGGER tg_channel_configs__set_updated_at BEFORE UPDATE ON channel_configs
  FOR EACH ROW EXECUTE FUNCTION tg__set_updated_at();
CREATE TRIGGER tg_workflow_channel_configs__set_updated_at BEFORE UPDATE ON workflow_channel_configs
  FOR EACH ROW EXECUTE FUNCTION tg__set_updated_at();
CREATE TRIGGER tg_node_io_requirements__set_updated_at BEFORE UPDATE ON node_io_requirements
  FOR EACH ROW EXECUTE FUNCTION tg__set_updated_at();
CREATE TRIGGER tg_workflow_data_bindings__set_updated_at BEFORE UPDATE ON workflow_data_bindings
  FOR EACH ROW EXECUTE FUNCTION tg__set_updated_at();
CREATE TRIGGER tg_config_status__set_updated_at BEFORE UPDATE ON config_status
  FOR EACH ROW EXECUTE FUNCTION tg__set_updated_at();
