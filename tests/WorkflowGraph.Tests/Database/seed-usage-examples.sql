-- The usage examples of the seed document (shared/seed/workflow-execution-schema.md), verbatim.
-- They expect workflow 123e4567-e89b-12d3-a456-426614174000, user ...4001, node 5, trace 1001 and step 2001 to exist.

-- Start a new workflow execution
SELECT start_workflow_execution(
    '123e4567-e89b-12d3-a456-426614174000'::uuid, -- workflow_id
    'web'::workflow_channel,                        -- channel
    'EXT-12345',                                   -- external_id
    '{"config": "data"}'::jsonb,                   -- config_snapshot
    '123e4567-e89b-12d3-a456-426614174001'::uuid  -- created_by user_id
);

-- Start a step
SELECT start_workflow_step(
    1001,                               -- trace_id
    5,                                  -- node_id
    1,                                  -- step_number
    '{"input": "data"}'::jsonb         -- input_data
);

-- Complete a step
SELECT complete_workflow_step(
    2001,                               -- step_id
    'completed'::step_status,           -- status
    '{"output": "data"}'::jsonb,        -- output_data
    NULL                                -- error_message
);

-- Set context value
SELECT set_workflow_context(
    1001,                               -- trace_id
    'user_session',                     -- key
    '{"session_id": "abc123"}'::jsonb  -- value
);

-- Get all context for a trace
SELECT * FROM get_workflow_context(1001);

-- Get specific context value
SELECT * FROM get_workflow_context(1001, 'user_session');

-- View execution summary
SELECT * FROM v_workflow_execution_summary 
WHERE workflow_id = '123e4567-e89b-12d3-a456-426614174000'::uuid
ORDER BY start_time DESC
LIMIT 10;

-- Analyze channel performance
SELECT * FROM v_workflow_channel_performance
WHERE workflow_id = '123e4567-e89b-12d3-a456-426614174000'::uuid;

-- Debug failed steps
SELECT * FROM v_failed_steps_analysis
WHERE workflow_id = '123e4567-e89b-12d3-a456-426614174000'::uuid;
