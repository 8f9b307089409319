-- Analytics views. security_invoker: the caller's RLS applies (a plain view would run as its owner and see
-- every tenant).

CREATE VIEW v_active_workflow_configs WITH (security_invoker = true) AS
SELECT c.id,
       c.org_id,
       o.name        AS org_name,
       c.workflow_id,
       w.name        AS workflow_name,
       c.channel,
       c.config_type,
       c.version,
       c.name,
       c.description,
       c.config,
       c.created_by,
       c.created_at,
       c.updated_at,
       s.activated_by,
       s.activated_at
  FROM workflow_configs c
  JOIN organizations o ON o.id = c.org_id
  LEFT JOIN workflows w ON w.id = c.workflow_id
  LEFT JOIN config_status s ON s.entity_type = 'workflow_config' AND s.entity_id = c.id
 WHERE c.is_active;

-- One row per run with its step counts. avg_step_duration_ms is over finished steps.
CREATE VIEW v_workflow_execution_summary WITH (security_invoker = true) AS
SELECT t.id            AS trace_id,
       t.org_id,
       t.workflow_id,
       w.name          AS workflow_name,
       t.channel,
       t.status,
       t.external_id,
       t.start_time,
       t.end_time,
       t.duration_ms,
       t.error_message,
       t.created_by,
       coalesce(s.total_steps, 0)     AS total_steps,
       coalesce(s.completed_steps, 0) AS completed_steps,
       coalesce(s.failed_steps, 0)    AS failed_steps,
       coalesce(s.running_steps, 0)   AS running_steps,
       coalesce(s.skipped_steps, 0)   AS skipped_steps,
       coalesce(s.total_retries, 0)   AS total_retries,
       s.avg_step_duration_ms
  FROM workflow_trace t
  JOIN workflows w ON w.id = t.workflow_id
  LEFT JOIN LATERAL (
        SELECT count(*)                                              AS total_steps,
               count(*) FILTER (WHERE st.status = 'completed')       AS completed_steps,
               count(*) FILTER (WHERE st.status IN ('failed', 'timeout')) AS failed_steps,
               count(*) FILTER (WHERE st.status IN ('pending', 'running')) AS running_steps,
               count(*) FILTER (WHERE st.status = 'skipped')         AS skipped_steps,
               sum(st.retry_count)                                   AS total_retries,
               round(avg(st.duration_ms), 2)                         AS avg_step_duration_ms
          FROM workflow_steps st
         WHERE st.trace_id = t.id
       ) s ON true;

-- Per workflow and channel. success_rate = completed / finished runs, in percent (NULL before any run finished).
-- Duration figures are over finished runs; percentiles are continuous (percentile_cont).
CREATE VIEW v_workflow_channel_performance WITH (security_invoker = true) AS
SELECT t.org_id,
       t.workflow_id,
       w.name AS workflow_name,
       t.channel,
       count(*)                                                   AS total_executions,
       count(*) FILTER (WHERE t.status = 'completed')             AS completed_executions,
       count(*) FILTER (WHERE t.status = 'failed')                AS failed_executions,
       count(*) FILTER (WHERE t.status = 'cancelled')             AS cancelled_executions,
       count(*) FILTER (WHERE t.status = 'timeout')               AS timeout_executions,
       count(*) FILTER (WHERE t.status IN ('pending', 'active'))  AS in_progress_executions,
       round(100.0 * count(*) FILTER (WHERE t.status = 'completed')
             / nullif(count(*) FILTER (WHERE t.status NOT IN ('pending', 'active')), 0), 2) AS success_rate,
       round(avg(t.duration_ms), 2)                               AS avg_duration_ms,
       min(t.duration_ms)                                         AS min_duration_ms,
       max(t.duration_ms)                                         AS max_duration_ms,
       percentile_cont(0.5)  WITHIN GROUP (ORDER BY t.duration_ms) AS p50_duration_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY t.duration_ms) AS p95_duration_ms,
       max(t.start_time)                                          AS last_execution_at
  FROM workflow_trace t
  JOIN workflows w ON w.id = t.workflow_id
 GROUP BY t.org_id, t.workflow_id, w.name, t.channel;

-- Per node, including nodes that never ran. success_rate = completed / finished steps, in percent.
CREATE VIEW v_node_execution_stats WITH (security_invoker = true) AS
SELECT n.org_id,
       n.workflow_id,
       w.name      AS workflow_name,
       n.id        AS node_id,
       n.name      AS node_name,
       n.node_type,
       count(s.id)                                                AS total_executions,
       count(s.id) FILTER (WHERE s.status = 'completed')          AS completed_executions,
       count(s.id) FILTER (WHERE s.status IN ('failed', 'timeout')) AS failed_executions,
       count(s.id) FILTER (WHERE s.status = 'skipped')            AS skipped_executions,
       round(100.0 * count(s.id) FILTER (WHERE s.status = 'completed')
             / nullif(count(s.id) FILTER (WHERE s.status NOT IN ('pending', 'running')), 0), 2) AS success_rate,
       round(avg(s.duration_ms), 2)                               AS avg_duration_ms,
       percentile_cont(0.5)  WITHIN GROUP (ORDER BY s.duration_ms) AS p50_duration_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY s.duration_ms) AS p95_duration_ms,
       max(s.duration_ms)                                         AS max_duration_ms,
       coalesce(sum(s.retry_count), 0)                            AS total_retries,
       max(s.start_time)                                          AS last_executed_at
  FROM workflow_nodes n
  JOIN workflows w ON w.id = n.workflow_id
  LEFT JOIN workflow_steps s ON s.node_id = n.id
 GROUP BY n.id, w.id;

-- Every event of a run with its step and node; elapsed_ms counts from the run's start.
CREATE VIEW v_workflow_execution_timeline WITH (security_invoker = true) AS
SELECT e.id          AS event_id,
       e.org_id,
       e.trace_id,
       t.workflow_id,
       w.name        AS workflow_name,
       t.channel,
       t.status      AS trace_status,
       e.step_id,
       s.step_number,
       s.node_id,
       n.name        AS node_name,
       e.event_type,
       e.event_data,
       e.created_at,
       (extract(epoch FROM e.created_at - t.start_time) * 1000)::bigint AS elapsed_ms
  FROM workflow_events e
  JOIN workflow_trace t ON t.id = e.trace_id
  JOIN workflows w ON w.id = t.workflow_id
  LEFT JOIN workflow_steps s ON s.id = e.step_id
  LEFT JOIN workflow_nodes n ON n.id = s.node_id;

-- Steps whose latest attempt failed or timed out, with the run and node around them.
CREATE VIEW v_failed_steps_analysis WITH (security_invoker = true) AS
SELECT s.id          AS step_id,
       s.org_id,
       s.trace_id,
       t.workflow_id,
       w.name        AS workflow_name,
       t.channel,
       t.external_id,
       t.status      AS trace_status,
       s.node_id,
       n.name        AS node_name,
       n.node_type,
       s.step_number,
       s.status,
       s.error_message,
       s.retry_count,
       s.input_data,
       s.output_data,
       s.start_time,
       s.end_time,
       s.duration_ms
  FROM workflow_steps s
  JOIN workflow_trace t ON t.id = s.trace_id
  JOIN workflows w ON w.id = t.workflow_id
  JOIN workflow_nodes n ON n.id = s.node_id
 WHERE s.status IN ('failed', 'timeout');

GRANT SELECT ON v_active_workflow_configs, v_workflow_execution_summary, v_workflow_channel_performance,
  v_node_execution_stats, v_workflow_execution_timeline, v_failed_steps_analysis TO workflowgraph_app;
