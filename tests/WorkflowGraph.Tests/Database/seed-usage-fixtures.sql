-- The rows the seed's usage examples name: an organisation, user ...4001, workflow ...4000, node 5, trace 1001
-- (active) and step 2001 (running).
INSERT INTO organizations (id, name) VALUES ('5eed0000-0000-4000-8000-000000000001', 'Seed Org');
INSERT INTO users (id, org_id, email)
VALUES ('123e4567-e89b-12d3-a456-426614174001', '5eed0000-0000-4000-8000-000000000001', 'seed@example.org');
INSERT INTO workflows (id, org_id, name)
VALUES ('123e4567-e89b-12d3-a456-426614174000', '5eed0000-0000-4000-8000-000000000001', 'Seed workflow');
INSERT INTO workflow_nodes (id, org_id, workflow_id, name, node_type)
VALUES (5, '5eed0000-0000-4000-8000-000000000001', '123e4567-e89b-12d3-a456-426614174000', 'Seed node', 'action');
INSERT INTO workflow_trace (id, org_id, workflow_id, channel, status)
VALUES (1001, '5eed0000-0000-4000-8000-000000000001', '123e4567-e89b-12d3-a456-426614174000', 'web', 'active');
INSERT INTO workflow_steps (id, org_id, trace_id, node_id, step_number, status, start_time)
VALUES (2001, '5eed0000-0000-4000-8000-000000000001', 1001, 5, 100, 'running', now());
