-- Statistics rollups: runs and steps counted per organisation × workflow × channel (× node) × status × UTC hour,
-- with duration sums, min/max and a logarithmic duration histogram. traceStats/stepStats read them instead of
-- scanning runs and steps.
--
-- They are kept by an incremental job, not in the writers' transactions. Writers only record which rollup cells they
-- changed: a statement-level trigger (transition tables) appends the distinct cells of the rows a statement inserted
-- or changed to stats_dirty_cells — an insert into a table without indexes or keys, so writers never wait for each
-- other there and hold no lock another writer needs (no deadlock). A cell is organisation × workflow × channel × UTC
-- hour (runs) or × node too (steps); it covers every status.
--
-- The service's job (refresh_stats_rollups, every Analytics:RollupIntervalSeconds) takes a batch of dirty cells
-- (DELETE … RETURNING, SKIP LOCKED) and recomputes each cell from the raw rows, exactly: what a rollup row holds is
-- by construction what the raw rows of its cell held when the job read them, so rollups cannot drift. A change is in
-- the rollups once the first pass that starts after its commit has finished: the lag is at most the interval plus
-- one pass. stats_rollup_progress.refreshed_to says up to when (every change committed before it is in).
--
-- Retention keeps rollups: deleting runs records, per organisation and workflow, the hour up to which raw rows may
-- be gone (stats_rollup_horizons); the job leaves cells at or before that hour as they are, so the history stays.
--
-- The hour column is named start_time, like the raw column it is truncated from, so the same `where` conditions
-- apply to both: for an hour-aligned t, a row's start_time >= t (or < t) exactly when its hour's is.
--
-- Histogram (DDSketch's log mapping, relative accuracy 2%): gamma = 1.02 / 0.98; a duration d >= 1 ms lies in bucket
-- k = ceil(ln(d) / ln(gamma)) + 1, the interval (gamma^(k-2), gamma^(k-1)], whose value 2 gamma^(k-1) / (gamma + 1)
-- is within 2% of every duration in it; bucket 0 holds d = 0 exactly. A percentile is the value of the bucket that
-- holds the nearest-rank sample (rank ceil(p n)), so it lies within 2% of the exact nearest-rank percentile.
-- 1 ms to 1 day needs 458 buckets; a row stores only the buckets it has ({"bucket": count}).

CREATE FUNCTION stats_duration_bucket(p_ms bigint) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, public, pg_temp
AS $$ SELECT CASE WHEN p_ms <= 0 THEN 0 ELSE ceil(ln(p_ms::float8) / ln(1.02::float8 / 0.98::float8))::integer + 1 END $$;

CREATE FUNCTION stats_bucket_value(p_bucket integer) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT CASE WHEN p_bucket <= 0 THEN 0::float8
              ELSE 2 * power(1.02::float8 / 0.98::float8, p_bucket - 1) / (1.02::float8 / 0.98::float8 + 1) END
$$;

-- The sum of two histograms; buckets whose count reaches 0 are left out.
CREATE FUNCTION stats_histogram_add(p_a jsonb, p_b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT coalesce(jsonb_object_agg(k, n ORDER BY k::integer) FILTER (WHERE n <> 0), '{}'::jsonb)
    FROM (SELECT k, sum(v::bigint) AS n
            FROM (SELECT * FROM jsonb_each_text(coalesce(p_a, '{}'::jsonb))
                  UNION ALL
                  SELECT * FROM jsonb_each_text(coalesce(p_b, '{}'::jsonb))) e (k, v)
           GROUP BY k) s
$$;

CREATE AGGREGATE stats_histogram_merge(jsonb) (SFUNC = stats_histogram_add, STYPE = jsonb, INITCOND = '{}');

-- The value of the nearest-rank p-quantile (0 < p <= 1) of a histogram; NULL for an empty one.
CREATE FUNCTION stats_histogram_percentile(p_histogram jsonb, p_quantile float8) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT stats_bucket_value(bucket)
    FROM (SELECT bucket, sum(n) OVER (ORDER BY bucket) AS running, sum(n) OVER () AS total
            FROM (SELECT k::integer AS bucket, v::bigint AS n FROM jsonb_each_text(p_histogram) e (k, v)) b) c
   WHERE running >= greatest(ceil(p_quantile * total), 1)
   ORDER BY bucket
   LIMIT 1
$$;

CREATE TABLE trace_stats_hourly (
  org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  workflow_id   uuid NOT NULL,
  channel       workflow_channel NOT NULL,
  status        trace_status NOT NULL,
  -- the UTC hour the runs started in
  start_time    timestamptz NOT NULL CHECK (start_time = date_trunc('hour', start_time, 'UTC')),
  runs          bigint NOT NULL,
  -- runs with a duration (finished), their sum, extremes and histogram
  timed         bigint NOT NULL,
  duration_sum  bigint NOT NULL,
  duration_min  bigint,
  duration_max  bigint,
  histogram     jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (org_id, start_time, workflow_id, channel, status)
);
CREATE INDEX ix_trace_stats_hourly__org_workflow ON trace_stats_hourly (org_id, workflow_id, start_time);

CREATE TABLE step_stats_hourly (
  org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  workflow_id   uuid NOT NULL,
  channel       workflow_channel NOT NULL,
  node_id       integer NOT NULL,
  status        step_status NOT NULL,
  -- the UTC hour the steps started in (their creation when they have no start)
  start_time    timestamptz NOT NULL CHECK (start_time = date_trunc('hour', start_time, 'UTC')),
  steps         bigint NOT NULL,
  timed         bigint NOT NULL,
  duration_sum  bigint NOT NULL,
  duration_min  bigint,
  duration_max  bigint,
  histogram     jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (org_id, start_time, workflow_id, channel, node_id, status)
);
CREATE INDEX ix_step_stats_hourly__org_workflow ON step_stats_hourly (org_id, workflow_id, start_time);

ALTER TABLE trace_stats_hourly ENABLE ROW LEVEL SECURITY;
ALTER TABLE step_stats_hourly ENABLE ROW LEVEL SECURITY;
CREATE POLICY trace_stats_hourly__tenant ON trace_stats_hourly FOR ALL TO workflowgraph_app
  USING (org_id = app_current_org_id()) WITH CHECK (org_id = app_current_org_id());
CREATE POLICY step_stats_hourly__tenant ON step_stats_hourly FOR ALL TO workflowgraph_app
  USING (org_id = app_current_org_id()) WITH CHECK (org_id = app_current_org_id());
-- read only for the service: only the job below (as the owner) writes rollups
GRANT SELECT ON trace_stats_hourly, step_stats_hourly TO workflowgraph_app;

-- Recording dirty cells can be switched off for a session or database (`SET workflowgraph.stats_rollups = off`),
-- for the benchmark's comparison and bulk loads: rollups then miss those writes until rebuild_stats_rollups runs.
CREATE FUNCTION stats_rollups_enabled() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, public, pg_temp
AS $$ SELECT coalesce(current_setting('workflowgraph.stats_rollups', true), '') NOT IN ('off', 'false', '0') $$;

-- Append-only; no key, no index: the job takes rows in any order, duplicates cost one recomputation.
CREATE TABLE stats_dirty_cells (
  org_id       uuid NOT NULL,
  workflow_id  uuid NOT NULL,
  channel      workflow_channel NOT NULL,
  -- NULL: the runs' cell; a node: that node's steps' cell
  node_id      integer,
  hour         timestamptz NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now()
);
-- nobody but the owner (the triggers and the job run as the owner) reads or writes it
ALTER TABLE stats_dirty_cells ENABLE ROW LEVEL SECURITY;

-- Per organisation and workflow: cells of hours at or before frozen_through are history the job no longer touches.
CREATE TABLE stats_rollup_horizons (
  org_id          uuid NOT NULL,
  workflow_id     uuid NOT NULL,
  frozen_through  timestamptz NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_stats_rollup_horizons__cell ON stats_rollup_horizons (org_id, workflow_id, frozen_through);
ALTER TABLE stats_rollup_horizons ENABLE ROW LEVEL SECURITY;

-- One row: every change committed before refreshed_to is in the rollups. Not tenant data (a time): every
-- organisation reads it.
CREATE TABLE stats_rollup_progress (
  singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  refreshed_to  timestamptz NOT NULL
);
-- the rebuild at the end of this migration makes the rollups exact as of now
INSERT INTO stats_rollup_progress (refreshed_to) VALUES (now());
ALTER TABLE stats_rollup_progress ENABLE ROW LEVEL SECURITY;
CREATE POLICY stats_rollup_progress__read ON stats_rollup_progress FOR SELECT TO workflowgraph_app USING (true);
GRANT SELECT ON stats_rollup_progress TO workflowgraph_app;

CREATE TYPE stats_cell AS (
  org_id       uuid,
  workflow_id  uuid,
  channel      text,
  node_id      integer,
  hour         timestamptz
);

-- The recorders run as the owner (SECURITY DEFINER): the service role cannot touch stats_dirty_cells. They read only
-- the statement's own rows (and, for steps, their runs' workflow and channel). stats_rollups_enabled() (above)
-- switches them off for a session, for the benchmark's comparison and bulk loads (rebuild afterwards).
CREATE FUNCTION tg_workflow_trace__stats_dirty() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  IF NOT stats_rollups_enabled() THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO stats_dirty_cells (org_id, workflow_id, channel, node_id, hour)
    SELECT DISTINCT n.org_id, n.workflow_id, n.channel, NULL::integer, date_trunc('hour', n.start_time, 'UTC')
      FROM new_rows n;
    RETURN NULL;
  END IF;
  -- updates: only rows whose counted values changed (a heartbeat's lease does not count); a run whose workflow or
  -- channel changed moves its steps' cells too
  INSERT INTO stats_dirty_cells (org_id, workflow_id, channel, node_id, hour)
  SELECT DISTINCT c.org_id, c.workflow_id, c.channel, c.node_id, c.hour
    FROM (SELECT o.org_id AS old_org, o.workflow_id AS old_workflow, o.channel AS old_channel, o.start_time AS old_start,
                 n.id, n.org_id, n.workflow_id, n.channel, n.start_time,
                 (o.workflow_id, o.channel) IS DISTINCT FROM (n.workflow_id, n.channel) AS moved
            FROM new_rows n JOIN old_rows o ON o.id = n.id
           WHERE (o.org_id, o.workflow_id, o.channel, o.status, o.start_time, o.duration_ms)
                 IS DISTINCT FROM (n.org_id, n.workflow_id, n.channel, n.status, n.start_time, n.duration_ms)) r
   CROSS JOIN LATERAL (
     VALUES (r.old_org, r.old_workflow, r.old_channel, NULL::integer, date_trunc('hour', r.old_start, 'UTC')),
            (r.org_id, r.workflow_id, r.channel, NULL::integer, date_trunc('hour', r.start_time, 'UTC'))
     UNION ALL
     SELECT s.org_id, x.workflow_id, x.channel, s.node_id, date_trunc('hour', coalesce(s.start_time, s.created_at), 'UTC')
       FROM workflow_steps s
      CROSS JOIN (VALUES (r.old_workflow, r.old_channel), (r.workflow_id, r.channel)) x (workflow_id, channel)
      WHERE r.moved AND s.trace_id = r.id) c (org_id, workflow_id, channel, node_id, hour);
  RETURN NULL;
END
$$;

-- A step's workflow and channel are its run's.
CREATE FUNCTION tg_workflow_steps__stats_dirty() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  IF NOT stats_rollups_enabled() THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO stats_dirty_cells (org_id, workflow_id, channel, node_id, hour)
    SELECT DISTINCT n.org_id, t.workflow_id, t.channel, n.node_id, date_trunc('hour', coalesce(n.start_time, n.created_at), 'UTC')
      FROM new_rows n JOIN workflow_trace t ON t.id = n.trace_id;
    RETURN NULL;
  END IF;
  INSERT INTO stats_dirty_cells (org_id, workflow_id, channel, node_id, hour)
  SELECT DISTINCT c.org_id, t.workflow_id, t.channel, c.node_id, c.hour
    FROM new_rows n
    JOIN old_rows o ON o.id = n.id
    JOIN workflow_trace t ON t.id = n.trace_id
   CROSS JOIN LATERAL (
     VALUES (o.org_id, o.node_id, date_trunc('hour', coalesce(o.start_time, o.created_at), 'UTC')),
            (n.org_id, n.node_id, date_trunc('hour', coalesce(n.start_time, n.created_at), 'UTC'))) c (org_id, node_id, hour)
   WHERE (o.org_id, o.node_id, o.status, coalesce(o.start_time, o.created_at), o.duration_ms)
         IS DISTINCT FROM (n.org_id, n.node_id, n.status, coalesce(n.start_time, n.created_at), n.duration_ms);
  RETURN NULL;
END
$$;

-- Deleted runs (retention, or a workflow's or organisation's cascade): the hour of the latest end among them (their
-- steps lie before it; a run still open counts as never ending) is the horizon of its organisation and workflow.
CREATE FUNCTION tg_workflow_trace__stats_horizon() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  INSERT INTO stats_rollup_horizons (org_id, workflow_id, frozen_through)
  SELECT o.org_id, o.workflow_id, date_trunc('hour', max(coalesce(o.end_time, 'infinity'::timestamptz)), 'UTC')
    FROM old_rows o
   GROUP BY o.org_id, o.workflow_id;
  RETURN NULL;
END
$$;

CREATE TRIGGER tg_workflow_trace__stats_dirty_insert AFTER INSERT ON workflow_trace
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tg_workflow_trace__stats_dirty();
CREATE TRIGGER tg_workflow_trace__stats_dirty_update AFTER UPDATE ON workflow_trace
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tg_workflow_trace__stats_dirty();
CREATE TRIGGER tg_workflow_trace__stats_horizon AFTER DELETE ON workflow_trace
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tg_workflow_trace__stats_horizon();
CREATE TRIGGER tg_workflow_steps__stats_dirty_insert AFTER INSERT ON workflow_steps
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tg_workflow_steps__stats_dirty();
CREATE TRIGGER tg_workflow_steps__stats_dirty_update AFTER UPDATE ON workflow_steps
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tg_workflow_steps__stats_dirty();

-- Recomputes the rollup rows of a set of cells from the raw rows (the cells' old rows go first).
CREATE FUNCTION stats_recompute_cells(p_cells stats_cell[]) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  DELETE FROM trace_stats_hourly r
   USING unnest(p_cells) c
   WHERE c.node_id IS NULL
     AND (r.org_id, r.workflow_id, r.channel, r.start_time) = (c.org_id, c.workflow_id, c.channel, c.hour);
  DELETE FROM step_stats_hourly r
   USING unnest(p_cells) c
   WHERE c.node_id IS NOT NULL
     AND (r.org_id, r.workflow_id, r.channel, r.node_id, r.start_time) = (c.org_id, c.workflow_id, c.channel, c.node_id, c.hour);

  INSERT INTO trace_stats_hourly
         (org_id, workflow_id, channel, status, start_time, runs, timed, duration_sum, duration_min, duration_max, histogram)
  SELECT b.org_id, b.workflow_id, b.channel, b.status, b.hour, sum(b.n), coalesce(sum(b.n) FILTER (WHERE b.bucket IS NOT NULL), 0),
         sum(b.total), min(b.lo), max(b.hi),
         coalesce(jsonb_object_agg(b.bucket, b.n ORDER BY b.bucket) FILTER (WHERE b.bucket IS NOT NULL), '{}'::jsonb)
    FROM (SELECT t.org_id, t.workflow_id, t.channel, t.status, c.hour,
                 stats_duration_bucket(t.duration_ms) AS bucket, count(*) AS n, coalesce(sum(t.duration_ms), 0) AS total,
                 min(t.duration_ms) AS lo, max(t.duration_ms) AS hi
            FROM (SELECT DISTINCT * FROM unnest(p_cells) u WHERE u.node_id IS NULL) c
            JOIN workflow_trace t
              ON t.org_id = c.org_id AND t.workflow_id = c.workflow_id AND t.channel = c.channel
             AND t.start_time >= c.hour AND t.start_time < c.hour + interval '1 hour'
           GROUP BY 1, 2, 3, 4, 5, 6) b
   GROUP BY 1, 2, 3, 4, 5;

  INSERT INTO step_stats_hourly
         (org_id, workflow_id, channel, node_id, status, start_time, steps, timed, duration_sum, duration_min, duration_max,
          histogram)
  SELECT b.org_id, b.workflow_id, b.channel, b.node_id, b.status, b.hour, sum(b.n),
         coalesce(sum(b.n) FILTER (WHERE b.bucket IS NOT NULL), 0), sum(b.total), min(b.lo), max(b.hi),
         coalesce(jsonb_object_agg(b.bucket, b.n ORDER BY b.bucket) FILTER (WHERE b.bucket IS NOT NULL), '{}'::jsonb)
    FROM (SELECT s.org_id, t.workflow_id, t.channel, s.node_id, s.status, c.hour,
                 stats_duration_bucket(s.duration_ms) AS bucket, count(*) AS n, coalesce(sum(s.duration_ms), 0) AS total,
                 min(s.duration_ms) AS lo, max(s.duration_ms) AS hi
            FROM (SELECT DISTINCT * FROM unnest(p_cells) u WHERE u.node_id IS NOT NULL) c
            JOIN workflow_steps s
              ON s.org_id = c.org_id AND s.node_id = c.node_id
             AND ((s.start_time >= c.hour AND s.start_time < c.hour + interval '1 hour')
                  OR (s.start_time IS NULL AND s.created_at >= c.hour AND s.created_at < c.hour + interval '1 hour'))
            JOIN workflow_trace t ON t.id = s.trace_id AND t.workflow_id = c.workflow_id AND t.channel = c.channel
           GROUP BY 1, 2, 3, 4, 5, 6, 7) b
   GROUP BY 1, 2, 3, 4, 5, 6;
END
$$;

-- One pass of the job: takes up to p_limit dirty cells and recomputes those after the horizon. Returns the number of
-- dirty rows taken, or NULL when another caller holds the job's lock (p_wait = false: the service's instances do not
-- wait for each other; p_wait = true: wait, as a rebuild or a test that must see its own writes counted does). A pass
-- that takes fewer than p_limit rows has emptied the queue: refreshed_to becomes the time it started.
-- SECURITY DEFINER (like sweep_workflow_runs): it works across organisations and takes only a batch size.
CREATE FUNCTION refresh_stats_rollups(p_limit integer DEFAULT 5000, p_wait boolean DEFAULT false) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_started timestamptz;
  v_taken   integer;
  v_cells   stats_cell[];
BEGIN
  IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 100000 THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'limit must be 1 to 100000';
  END IF;
  IF coalesce(p_wait, false) THEN
    PERFORM pg_advisory_xact_lock(hashtext('stats rollup refresh'));
  ELSIF NOT pg_try_advisory_xact_lock(hashtext('stats rollup refresh')) THEN
    RETURN NULL;
  END IF;
  -- every transaction that committed before this moment is visible to the statement below
  v_started := clock_timestamp();
  WITH taken AS (
    DELETE FROM stats_dirty_cells d
     WHERE d.ctid IN (SELECT q.ctid FROM stats_dirty_cells q LIMIT p_limit FOR UPDATE SKIP LOCKED)
    RETURNING d.org_id, d.workflow_id, d.channel, d.node_id, d.hour)
  SELECT count(*),
         array_agg(DISTINCT ROW(k.org_id, k.workflow_id, k.channel, k.node_id, k.hour)::stats_cell)
           FILTER (WHERE NOT EXISTS (
             SELECT 1 FROM stats_rollup_horizons h
              WHERE h.org_id = k.org_id AND h.workflow_id = k.workflow_id AND h.frozen_through >= k.hour))
    INTO v_taken, v_cells
    FROM taken k;
  IF v_cells IS NOT NULL THEN
    PERFORM stats_recompute_cells(v_cells);
  END IF;
  IF v_taken < p_limit THEN
    UPDATE stats_rollup_progress SET refreshed_to = greatest(refreshed_to, v_started);
  END IF;
  RETURN v_taken;
END
$$;

GRANT EXECUTE ON FUNCTION refresh_stats_rollups(integer, boolean) TO workflowgraph_app;

-- Rebuilds the rollups of the UTC hours in [p_from, p_to) from the raw rows (all organisations; owner only). It does
-- not stop writers: it waits for the job's lock (so the two never write the same cell at once), and what writers
-- commit meanwhile is in stats_dirty_cells for the job's next pass. Hours it rebuilds equal the raw rows again, so a
-- retention horizon inside them moves back to the hour before them. Returns the number of rollup rows written.
CREATE FUNCTION rebuild_stats_rollups(p_from timestamptz, p_to timestamptz) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_from    timestamptz;
  v_to      timestamptz;
  v_traces  bigint;
  v_steps   bigint;
BEGIN
  IF p_from IS NULL OR p_to IS NULL OR p_to < p_from THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'rebuild range must be non-null and ordered';
  END IF;
  v_from := date_trunc('hour', p_from, 'UTC');
  v_to := date_trunc('hour', p_to, 'UTC');
  IF v_to < p_to THEN
    v_to := v_to + interval '1 hour';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('stats rollup refresh'));
  -- from here on the hours rebuilt equal the raw rows: a horizon inside them falls back to just before them
  UPDATE stats_rollup_horizons SET frozen_through = v_from - interval '1 hour'
   WHERE frozen_through >= v_from AND frozen_through < v_to;
  DELETE FROM step_stats_hourly WHERE start_time >= v_from AND start_time < v_to;
  DELETE FROM trace_stats_hourly WHERE start_time >= v_from AND start_time < v_to;

  INSERT INTO trace_stats_hourly
         (org_id, workflow_id, channel, status, start_time, runs, timed, duration_sum, duration_min, duration_max, histogram)
  SELECT b.org_id, b.workflow_id, b.channel, b.status, b.hour, sum(b.n), coalesce(sum(b.n) FILTER (WHERE b.bucket IS NOT NULL), 0),
         sum(b.total), min(b.lo), max(b.hi),
         coalesce(jsonb_object_agg(b.bucket, b.n ORDER BY b.bucket) FILTER (WHERE b.bucket IS NOT NULL), '{}'::jsonb)
    FROM (SELECT t.org_id, t.workflow_id, t.channel, t.status, date_trunc('hour', t.start_time, 'UTC') AS hour,
                 stats_duration_bucket(t.duration_ms) AS bucket, count(*) AS n, coalesce(sum(t.duration_ms), 0) AS total,
                 min(t.duration_ms) AS lo, max(t.duration_ms) AS hi
            FROM workflow_trace t
           WHERE t.start_time >= v_from AND t.start_time < v_to
           GROUP BY 1, 2, 3, 4, 5, 6) b
   GROUP BY 1, 2, 3, 4, 5;
  GET DIAGNOSTICS v_traces = ROW_COUNT;

  INSERT INTO step_stats_hourly
         (org_id, workflow_id, channel, node_id, status, start_time, steps, timed, duration_sum, duration_min, duration_max,
          histogram)
  SELECT b.org_id, b.workflow_id, b.channel, b.node_id, b.status, b.hour, sum(b.n),
         coalesce(sum(b.n) FILTER (WHERE b.bucket IS NOT NULL), 0), sum(b.total), min(b.lo), max(b.hi),
         coalesce(jsonb_object_agg(b.bucket, b.n ORDER BY b.bucket) FILTER (WHERE b.bucket IS NOT NULL), '{}'::jsonb)
    FROM (SELECT s.org_id, t.workflow_id, t.channel, s.node_id, s.status,
                 date_trunc('hour', coalesce(s.start_time, s.created_at), 'UTC') AS hour,
                 stats_duration_bucket(s.duration_ms) AS bucket, count(*) AS n, coalesce(sum(s.duration_ms), 0) AS total,
                 min(s.duration_ms) AS lo, max(s.duration_ms) AS hi
            FROM workflow_steps s
            JOIN workflow_trace t ON t.id = s.trace_id
           WHERE coalesce(s.start_time, s.created_at) >= v_from AND coalesce(s.start_time, s.created_at) < v_to
           GROUP BY 1, 2, 3, 4, 5, 6, 7) b
   GROUP BY 1, 2, 3, 4, 5, 6;
  GET DIAGNOSTICS v_steps = ROW_COUNT;
  RETURN v_traces + v_steps;
END
$$;

GRANT EXECUTE ON FUNCTION tg_workflow_trace__stats_dirty(), tg_workflow_steps__stats_dirty(), tg_workflow_trace__stats_horizon()
  TO workflowgraph_app;


-- Used by the service's statistics statements.
GRANT EXECUTE ON FUNCTION stats_duration_bucket(bigint), stats_bucket_value(integer), stats_histogram_add(jsonb, jsonb),
  stats_histogram_percentile(jsonb, float8), stats_histogram_merge(jsonb) TO workflowgraph_app;

-- Rollups of what the database holds already.
SELECT rebuild_stats_rollups(
  coalesce(least((SELECT min(start_time) FROM workflow_trace), (SELECT min(coalesce(start_time, created_at)) FROM workflow_steps)), now()),
  greatest(coalesce(greatest((SELECT max(start_time) FROM workflow_trace),
                             (SELECT max(coalesce(start_time, created_at)) FROM workflow_steps)), now()), now()) + interval '1 hour');
