-- Status and channel types.
-- Text domains with a CHECK rather than enums: `'web'::workflow_channel` reads the same, but equality stays
-- `texteq`, which is LEAKPROOF, so under RLS the planner may use status/channel filters inside index scans.
-- (`enum_eq` is not leakproof: measured 7x slower for the dashboard query under RLS.)

CREATE DOMAIN workflow_channel AS text
  CHECK (VALUE IN ('web', 'voice', 'efax'));

CREATE DOMAIN trace_status AS text
  CHECK (VALUE IN ('pending', 'active', 'completed', 'failed', 'cancelled', 'timeout'));

-- pending/running are open; the rest are final. retry_workflow_step reopens failed and timeout steps.
CREATE DOMAIN step_status AS text
  CHECK (VALUE IN ('pending', 'running', 'completed', 'failed', 'skipped', 'cancelled', 'timeout'));

-- global: the organisation's default; workflow: one workflow, any channel; channel: one workflow on one channel.
CREATE DOMAIN config_type AS text
  CHECK (VALUE IN ('global', 'workflow', 'channel'));
