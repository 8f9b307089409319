-- PHI classification: which values of the execution data are protected health information (PHI) or other personal
-- data (PII). Node fields carry their sensitivity on node_io_requirements; context keys, configuration keys and the
-- free-text columns that may hold identifiers (external_id, error_message) are classified per organisation by
-- phi_classification_rules. Nothing here masks: 036 reads these rules where the response JSON is built.

CREATE DOMAIN data_sensitivity AS text CHECK (VALUE IN ('phi', 'pii', 'none'));

-- 'none' by default: a field nobody classified is not PHI, unless its node has PHI fields (036, the safe default)
ALTER TABLE node_io_requirements ADD COLUMN sensitivity data_sensitivity NOT NULL DEFAULT 'none';

CREATE TABLE phi_classification_rules (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id       uuid NOT NULL DEFAULT app_current_org_id() REFERENCES organizations (id) ON DELETE CASCADE,
  -- context_key: a key of workflow_trace_context; config_key: a top-level key of a configuration or a run's
  -- config_snapshot; column: one of the text columns that may carry an identifier
  target       text NOT NULL CHECK (target IN ('context_key', 'config_key', 'column')),
  key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
  sensitivity  data_sensitivity NOT NULL,
  created_by   uuid DEFAULT app_current_user_id(),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT phi_classification_rules_known_column CHECK (target <> 'column' OR key IN ('external_id', 'error_message')),
  UNIQUE (org_id, target, key)
);

CREATE TRIGGER tg_phi_classification_rules__set_updated_at BEFORE UPDATE ON phi_classification_rules
  FOR EACH ROW EXECUTE FUNCTION tg__set_updated_at();

ALTER TABLE phi_classification_rules ENABLE ROW LEVEL SECURITY;
CREATE POLICY phi_classification_rules__tenant ON phi_classification_rules TO workflowgraph_app
  USING (org_id = app_current_org_id()) WITH CHECK (org_id = app_current_org_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON phi_classification_rules TO workflowgraph_app;
