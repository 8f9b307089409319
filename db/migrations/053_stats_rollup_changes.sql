-- Statistics rollups kept by adding each change instead of recomputing its hour.
--
-- 030 recorded which cells (organisation, workflow, channel, node, hour) a write touched, and the job recomputed every
-- such cell from the raw rows of its hour. A pass thus cost as much as the rows of the hours written, not as the
-- writes: with a workflow's steps arriving at 500 a second, each pass aggregated all of that hour's steps again (a
-- pass over one cell of 263,731 steps took 1.3-1.5 s here), and maintenance grew through the hour. The recorders were
-- statement-level triggers over transition tables, which every insert and update of a run or step filled, even one
-- that changed no counted value and even with the recorder switched off.
--
-- Now:
-- 1. Each recorder is a row trigger whose WHEN clause holds the switch (stats_rollups_enabled(), now without its SET
--    search_path so that it is inlined: a SET would be a configuration change on every row) and, for updates, the test
--    that a counted value changed: other writes queue no trigger event.
-- 2. A write records its change: one stats_dirty_cells row per status it adds to or takes from (status, n = +1 or -1,
--    and the duration it adds). Counts and sums are exact under any order of addition, and so is a histogram; minimum
--    and maximum are exact as long as nothing timed is taken away. So a change that takes a timed row away (a retried
--    step, a corrected run) or moves a run to another workflow or channel records its cells as before (status NULL),
--    and those are recomputed from the raw rows.
-- 3. A pass takes the queue's oldest rows (recorded_at is the writer's clock_timestamp(), so a step's completion is
--    taken after its start), adds the changes of the cells it does not recompute to their hourly rows (rows left
--    with nothing counted are removed), recomputes the marked cells from the raw rows, and then the UTC days of both
--    from their hours. A recomputation reads the raw rows and deletes the cells' queued rows in one statement, so it
--    and the queue agree on which writes it counted: a write committed after that statement's snapshot stays queued
--    and is added on top by the next pass. rebuild_stats_rollups does the same for the hours it rebuilds.
--
-- A change needs no raw row, so it is added whatever the retention horizon (030 left every write at or before it out);
-- only a recomputation waits for a rebuild there. What a pass costs is now the changes it takes, and a day's hours. Writes made with the recorder switched off are
-- missing from the rollups until rebuild_stats_rollups runs over their hours (030 already said so; a cell recomputed
-- for another write also counts them).

ALTER TABLE stats_dirty_cells
  -- NULL: recompute the cell from the raw rows; otherwise the status whose counts change
  ADD COLUMN status text,
  -- +1 (a row counted under the status) or -1 (no longer counted under it); NULL with status NULL
  ADD COLUMN n integer,
  -- the duration the row adds (only with n = +1)
  ADD COLUMN duration_ms bigint,
  ADD CONSTRAINT stats_dirty_cells__change CHECK (
    (status IS NULL AND n IS NULL AND duration_ms IS NULL)
    OR (status IS NOT NULL AND n IN (-1, 1) AND (duration_ms IS NULL OR n = 1)));
ALTER TABLE stats_dirty_cells ALTER COLUMN recorded_at SET DEFAULT clock_timestamp();

-- One cell's change under one status and duration bucket, summed: what a pass adds to an hourly row.
CREATE TYPE stats_change AS (
  org_id       uuid,
  workflow_id  uuid,
  channel      text,
  node_id      integer,
  hour         timestamptz,
  status       text,
  bucket       integer,
  n            bigint,
  timed        bigint,
  total        bigint,
  lo           bigint,
  hi           bigint
);

-- Two histograms (ascending buckets and their counts) as one.
CREATE FUNCTION stats_histogram_merge(p_buckets integer[], p_counts bigint[], p_more_buckets integer[], p_more_counts bigint[],
                                      OUT buckets integer[], OUT counts bigint[])
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT coalesce(array_agg(b ORDER BY b), '{}'), coalesce(array_agg(c ORDER BY b), '{}')
    FROM (SELECT b, sum(c)::bigint AS c
            FROM (SELECT * FROM unnest(p_buckets, p_counts) UNION ALL SELECT * FROM unnest(p_more_buckets, p_more_counts)) u (b, c)
           GROUP BY b) m
   WHERE c <> 0
$$;

-- Inlinable (no SET, names qualified) so that the triggers' WHEN clauses below cost no function call.
CREATE OR REPLACE FUNCTION stats_rollups_enabled() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT coalesce(pg_catalog.current_setting('workflowgraph.stats_rollups', true), '') NOT IN ('off', 'false', '0') $$;
-- the WHEN clauses run as the writer, the service role among them
GRANT EXECUTE ON FUNCTION stats_rollups_enabled() TO workflowgraph_app;

DROP TRIGGER tg_workflow_trace__stats_dirty_insert ON workflow_trace;
DROP TRIGGER tg_workflow_trace__stats_dirty_update ON workflow_trace;
DROP TRIGGER tg_workflow_steps__stats_dirty_insert ON workflow_steps;
DROP TRIGGER tg_workflow_steps__stats_dirty_update ON workflow_steps;

-- A run's change: +1 under its new status (with its duration), -1 under its old one. A run that loses a duration or
-- moves to another workflow or channel marks its cells for recomputation instead (and, when it moved, its steps'
-- cells under both).
CREATE OR REPLACE FUNCTION tg_workflow_trace__stats_dirty() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_hour  timestamptz := date_trunc('hour', NEW.start_time, 'UTC');
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO stats_dirty_cells (org_id, workflow_id, channel, node_id, hour, status, n, duration_ms)
    VALUES (NEW.org_id, NEW.workflow_id, NEW.channel, NULL, v_hour, NEW.status, 1, NEW.duration_ms);
  ELSIF OLD.duration_ms IS NULL AND (OLD.workflow_id, OLD.channel) IS NOT DISTINCT FROM (NEW.workflow_id, NEW.channel) THEN
    INSERT INTO stats_dirty_cells (org_id, workflow_id, channel, node_id, hour, status, n, duration_ms)
    VALUES (OLD.org_id, OLD.workflow_id, OLD.channel, NULL, date_trunc('hour', OLD.start_time, 'UTC'), OLD.status, -1, NULL),
           (NEW.org_id, NEW.workflow_id, NEW.channel, NULL, v_hour, NEW.status, 1, NEW.duration_ms);
  ELSE
    INSERT INTO stats_dirty_cells (org_id, workflow_id, channel, node_id, hour)
    VALUES (OLD.org_id, OLD.workflow_id, OLD.channel, NULL, date_trunc('hour', OLD.start_time, 'UTC')),
           (NEW.org_id, NEW.workflow_id, NEW.channel, NULL, v_hour);
    IF (OLD.workflow_id, OLD.channel) IS DISTINCT FROM (NEW.workflow_id, NEW.channel) THEN
      INSERT INTO stats_dirty_cells (org_id, workflow_id, channel, node_id, hour)
      SELECT DISTINCT s.org_id, x.workflow_id, x.channel, s.node_id, date_trunc('hour', coalesce(s.start_time, s.created_at), 'UTC')
        FROM workflow_steps s
       CROSS JOIN (VALUES (OLD.workflow_id, OLD.channel), (NEW.workflow_id, NEW.channel)) x (workflow_id, channel)
       WHERE s.trace_id = NEW.id;
    END IF;
  END IF;
  RETURN NULL;
END
$$;

-- A step's change under its run's workflow and channel, as a run's above.
CREATE OR REPLACE FUNCTION tg_workflow_steps__stats_dirty() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_hour  timestamptz := date_trunc('hour', coalesce(NEW.start_time, NEW.created_at), 'UTC');
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO stats_dirty_cells (org_id, workflow_id, channel, node_id, hour, status, n, duration_ms)
    SELECT NEW.org_id, t.workflow_id, t.channel, NEW.node_id, v_hour, NEW.status, 1, NEW.duration_ms
      FROM workflow_trace t
     WHERE t.id = NEW.trace_id;
  ELSIF OLD.duration_ms IS NULL THEN
    INSERT INTO stats_dirty_cells (org_id, workflow_id, channel, node_id, hour, status, n, duration_ms)
    SELECT c.*
      FROM workflow_trace t
     CROSS JOIN LATERAL (
       VALUES (OLD.org_id, t.workflow_id, t.channel, OLD.node_id, date_trunc('hour', coalesce(OLD.start_time, OLD.created_at), 'UTC'),
               OLD.status::text, -1, NULL::bigint),
              (NEW.org_id, t.workflow_id, t.channel, NEW.node_id, v_hour, NEW.status::text, 1, NEW.duration_ms)) c
     WHERE t.id = NEW.trace_id;
  ELSE
    INSERT INTO stats_dirty_cells (org_id, workflow_id, channel, node_id, hour)
    SELECT c.*
      FROM workflow_trace t
     CROSS JOIN LATERAL (
       VALUES (OLD.org_id, t.workflow_id, t.channel, OLD.node_id, date_trunc('hour', coalesce(OLD.start_time, OLD.created_at), 'UTC')),
              (NEW.org_id, t.workflow_id, t.channel, NEW.node_id, v_hour)) c
     WHERE t.id = NEW.trace_id;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER tg_workflow_trace__stats_dirty_insert AFTER INSERT ON workflow_trace
  FOR EACH ROW
  WHEN (stats_rollups_enabled())
  EXECUTE FUNCTION tg_workflow_trace__stats_dirty();
CREATE TRIGGER tg_workflow_trace__stats_dirty_update AFTER UPDATE ON workflow_trace
  FOR EACH ROW
  WHEN ((OLD.org_id, OLD.workflow_id, OLD.channel, OLD.status, OLD.start_time, OLD.duration_ms)
        IS DISTINCT FROM (NEW.org_id, NEW.workflow_id, NEW.channel, NEW.status, NEW.start_time, NEW.duration_ms)
        AND stats_rollups_enabled())
  EXECUTE FUNCTION tg_workflow_trace__stats_dirty();
CREATE TRIGGER tg_workflow_steps__stats_dirty_insert AFTER INSERT ON workflow_steps
  FOR EACH ROW
  WHEN (stats_rollups_enabled())
  EXECUTE FUNCTION tg_workflow_steps__stats_dirty();
CREATE TRIGGER tg_workflow_steps__stats_dirty_update AFTER UPDATE ON workflow_steps
  FOR EACH ROW
  WHEN ((OLD.org_id, OLD.node_id, OLD.status, coalesce(OLD.start_time, OLD.created_at), OLD.duration_ms)
        IS DISTINCT FROM (NEW.org_id, NEW.node_id, NEW.status, coalesce(NEW.start_time, NEW.created_at), NEW.duration_ms)
        AND stats_rollups_enabled())
  EXECUTE FUNCTION tg_workflow_steps__stats_dirty();

-- Deleted runs (retention, a workflow's or organisation's cascade): the hour of the latest end among them is the horizon
-- of their organisation and workflow. 030 counted a run still open as never ending, which froze its workflow's cells
-- for good (no rebuild range reaches infinity); its steps, deleted with it, began before the delete, so the delete's
-- hour bounds them. Horizons recorded so in the past take the hour they were recorded in.
CREATE OR REPLACE FUNCTION tg_workflow_trace__stats_horizon() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  INSERT INTO stats_rollup_horizons (org_id, workflow_id, frozen_through)
  SELECT o.org_id, o.workflow_id, date_trunc('hour', max(coalesce(o.end_time, greatest(o.start_time, now()))), 'UTC')
    FROM old_rows o
   GROUP BY o.org_id, o.workflow_id;
  RETURN NULL;
END
$$;
UPDATE stats_rollup_horizons SET frozen_through = date_trunc('hour', recorded_at, 'UTC') WHERE frozen_through = 'infinity';

-- Adds summed changes to their hourly rows (changes of the cells in p_skip are left out: those are recomputed from the
-- raw rows) and removes the rows left with nothing counted. The caller recomputes the days.
CREATE FUNCTION stats_add_changes(p_changes stats_change[], p_skip stats_cell[]) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  INSERT INTO trace_stats_hourly AS r
         (org_id, workflow_id, channel, status, start_time, runs, timed, duration_sum, duration_min, duration_max,
          histogram_buckets, histogram_counts)
  SELECT c.org_id, c.workflow_id, c.channel, c.status, c.hour, sum(c.n), sum(c.timed), sum(c.total), min(c.lo), max(c.hi),
         coalesce(array_agg(c.bucket ORDER BY c.bucket) FILTER (WHERE c.timed <> 0), '{}'),
         coalesce(array_agg(c.timed ORDER BY c.bucket) FILTER (WHERE c.timed <> 0), '{}')
    FROM unnest(p_changes) c
   WHERE c.node_id IS NULL
     AND NOT EXISTS (SELECT 1 FROM unnest(p_skip) s
                      WHERE s.node_id IS NULL
                        AND (s.org_id, s.workflow_id, s.channel, s.hour) = (c.org_id, c.workflow_id, c.channel, c.hour))
   GROUP BY c.org_id, c.workflow_id, c.channel, c.status, c.hour
  ON CONFLICT (org_id, start_time, workflow_id, channel, status) DO UPDATE
     SET runs = r.runs + excluded.runs, timed = r.timed + excluded.timed,
         duration_sum = r.duration_sum + excluded.duration_sum,
         duration_min = least(r.duration_min, excluded.duration_min),
         duration_max = greatest(r.duration_max, excluded.duration_max),
         (histogram_buckets, histogram_counts) = (
           SELECT m.buckets, m.counts
             FROM stats_histogram_merge(r.histogram_buckets, r.histogram_counts, excluded.histogram_buckets,
                                        excluded.histogram_counts) m);

  INSERT INTO step_stats_hourly AS r
         (org_id, workflow_id, channel, node_id, status, start_time, steps, timed, duration_sum, duration_min, duration_max,
          histogram_buckets, histogram_counts)
  SELECT c.org_id, c.workflow_id, c.channel, c.node_id, c.status, c.hour, sum(c.n), sum(c.timed), sum(c.total), min(c.lo),
         max(c.hi),
         coalesce(array_agg(c.bucket ORDER BY c.bucket) FILTER (WHERE c.timed <> 0), '{}'),
         coalesce(array_agg(c.timed ORDER BY c.bucket) FILTER (WHERE c.timed <> 0), '{}')
    FROM unnest(p_changes) c
   WHERE c.node_id IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM unnest(p_skip) s
                      WHERE (s.org_id, s.workflow_id, s.channel, s.node_id, s.hour)
                            = (c.org_id, c.workflow_id, c.channel, c.node_id, c.hour))
   GROUP BY c.org_id, c.workflow_id, c.channel, c.node_id, c.status, c.hour
  ON CONFLICT (org_id, start_time, workflow_id, channel, node_id, status) DO UPDATE
     SET steps = r.steps + excluded.steps, timed = r.timed + excluded.timed,
         duration_sum = r.duration_sum + excluded.duration_sum,
         duration_min = least(r.duration_min, excluded.duration_min),
         duration_max = greatest(r.duration_max, excluded.duration_max),
         (histogram_buckets, histogram_counts) = (
           SELECT m.buckets, m.counts
             FROM stats_histogram_merge(r.histogram_buckets, r.histogram_counts, excluded.histogram_buckets,
                                        excluded.histogram_counts) m);

  -- a status whose last row moved on (a step that was running and has finished) counts nothing in that hour any more
  DELETE FROM trace_stats_hourly r
   USING (SELECT DISTINCT c.org_id, c.workflow_id, c.channel, c.status, c.hour FROM unnest(p_changes) c WHERE c.node_id IS NULL) c
   WHERE (r.org_id, r.start_time, r.workflow_id, r.channel, r.status) = (c.org_id, c.hour, c.workflow_id, c.channel, c.status)
     AND r.runs = 0 AND r.timed = 0;
  DELETE FROM step_stats_hourly r
   USING (SELECT DISTINCT c.org_id, c.workflow_id, c.channel, c.node_id, c.status, c.hour
            FROM unnest(p_changes) c WHERE c.node_id IS NOT NULL) c
   WHERE (r.org_id, r.start_time, r.workflow_id, r.channel, r.node_id, r.status)
         = (c.org_id, c.hour, c.workflow_id, c.channel, c.node_id, c.status)
     AND r.steps = 0 AND r.timed = 0;
END
$$;

-- Recomputes the hourly rows of a set of cells from the raw rows (the cells' old rows go first; the caller recomputes
-- the days). Each insert also deletes its cells' queued rows: in one statement, the raw rows read and the queue agree on which writes
-- are counted (a write committed after the statement's snapshot stays queued, to be added by the next pass).
CREATE OR REPLACE FUNCTION stats_recompute_cells(p_cells stats_cell[]) RETURNS void
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

  WITH counted AS (
    DELETE FROM stats_dirty_cells q
     USING (SELECT DISTINCT * FROM unnest(p_cells) u WHERE u.node_id IS NULL) c
     WHERE q.node_id IS NULL AND (q.org_id, q.workflow_id, q.channel, q.hour) = (c.org_id, c.workflow_id, c.channel, c.hour))
  INSERT INTO trace_stats_hourly
         (org_id, workflow_id, channel, status, start_time, runs, timed, duration_sum, duration_min, duration_max,
          histogram_buckets, histogram_counts)
  SELECT b.org_id, b.workflow_id, b.channel, b.status, b.hour, sum(b.n), coalesce(sum(b.n) FILTER (WHERE b.bucket IS NOT NULL), 0),
         sum(b.total), min(b.lo), max(b.hi),
         coalesce(array_agg(b.bucket ORDER BY b.bucket) FILTER (WHERE b.bucket IS NOT NULL), '{}'),
         coalesce(array_agg(b.n ORDER BY b.bucket) FILTER (WHERE b.bucket IS NOT NULL), '{}')
    FROM (SELECT t.org_id, t.workflow_id, t.channel, t.status, c.hour,
                 stats_duration_bucket(t.duration_ms) AS bucket, count(*) AS n, coalesce(sum(t.duration_ms), 0) AS total,
                 min(t.duration_ms) AS lo, max(t.duration_ms) AS hi
            FROM (SELECT DISTINCT * FROM unnest(p_cells) u WHERE u.node_id IS NULL) c
            JOIN workflow_trace t
              ON t.org_id = c.org_id AND t.workflow_id = c.workflow_id AND t.channel = c.channel
             AND t.start_time >= c.hour AND t.start_time < c.hour + interval '1 hour'
           GROUP BY 1, 2, 3, 4, 5, 6) b
   GROUP BY 1, 2, 3, 4, 5;

  WITH counted AS (
    DELETE FROM stats_dirty_cells q
     USING (SELECT DISTINCT * FROM unnest(p_cells) u WHERE u.node_id IS NOT NULL) c
     WHERE (q.org_id, q.workflow_id, q.channel, q.node_id, q.hour) = (c.org_id, c.workflow_id, c.channel, c.node_id, c.hour))
  INSERT INTO step_stats_hourly
         (org_id, workflow_id, channel, node_id, status, start_time, steps, timed, duration_sum, duration_min, duration_max,
          histogram_buckets, histogram_counts)
  SELECT b.org_id, b.workflow_id, b.channel, b.node_id, b.status, b.hour, sum(b.n),
         coalesce(sum(b.n) FILTER (WHERE b.bucket IS NOT NULL), 0), sum(b.total), min(b.lo), max(b.hi),
         coalesce(array_agg(b.bucket ORDER BY b.bucket) FILTER (WHERE b.bucket IS NOT NULL), '{}'),
         coalesce(array_agg(b.n ORDER BY b.bucket) FILTER (WHERE b.bucket IS NOT NULL), '{}')
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

-- One pass of the job: takes up to p_limit of the oldest queued rows, adds the changes and recomputes the marked cells
-- after their horizon. Returns the number of rows taken, or NULL when another caller holds the
-- job's lock (p_wait = false: the service's instances do not wait for each other; p_wait = true: wait, as a rebuild or
-- a test that must see its own writes counted does). A pass that takes fewer than p_limit rows has emptied the queue:
-- refreshed_to becomes the time it started. SECURITY DEFINER (like sweep_workflow_runs): it works across
-- organisations and takes only a batch size.
CREATE OR REPLACE FUNCTION refresh_stats_rollups(p_limit integer DEFAULT 5000, p_wait boolean DEFAULT false) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_started  timestamptz;
  v_taken    integer;
  v_cells    stats_cell[];
  v_changes  stats_change[];
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
  -- the rows picked once, then deleted by their addresses (a TID scan whatever the statistics say). Joined to the queue
  -- instead (through IN (subquery), then a materialized CTE), passes of 5,000 rows took 0.45-19 s at times under the
  -- step-lifecycle benchmark, in the function's later calls (the plan that did it was not caught); deleted by address,
  -- at most 0.5 s in the same benchmark
  WITH taken AS (
    DELETE FROM stats_dirty_cells d
     WHERE d.ctid = ANY (ARRAY(
             SELECT q.ctid FROM stats_dirty_cells q ORDER BY q.recorded_at LIMIT p_limit FOR UPDATE SKIP LOCKED))
    RETURNING d.org_id, d.workflow_id, d.channel, d.node_id, d.hour, d.status, d.n, d.duration_ms),
  -- a change needs no raw row, so it is added at any hour; a cell at or before its horizon is not recomputed (its raw
  -- rows may be gone, its rollups are the history)
  live AS (
    SELECT k.*
      FROM taken k
     WHERE k.status IS NOT NULL
        OR NOT EXISTS (SELECT 1 FROM stats_rollup_horizons h
                        WHERE h.org_id = k.org_id AND h.workflow_id = k.workflow_id AND h.frozen_through >= k.hour))
  SELECT (SELECT count(*) FROM taken),
         (SELECT array_agg(DISTINCT ROW(l.org_id, l.workflow_id, l.channel, l.node_id, l.hour)::stats_cell)
            FROM live l WHERE l.status IS NULL),
         (SELECT array_agg(ROW(g.org_id, g.workflow_id, g.channel, g.node_id, g.hour, g.status, g.bucket, g.n, g.timed, g.total,
                               g.lo, g.hi)::stats_change)
            FROM (SELECT l.org_id, l.workflow_id, l.channel, l.node_id, l.hour, l.status,
                         stats_duration_bucket(l.duration_ms) AS bucket, sum(l.n)::bigint AS n, count(l.duration_ms) AS timed,
                         coalesce(sum(l.duration_ms), 0)::bigint AS total, min(l.duration_ms) AS lo, max(l.duration_ms) AS hi
                    FROM live l
                   WHERE l.status IS NOT NULL
                   GROUP BY 1, 2, 3, 4, 5, 6, 7) g)
    INTO v_taken, v_cells, v_changes;
  IF v_changes IS NOT NULL THEN
    PERFORM stats_add_changes(v_changes, v_cells);
  END IF;
  IF v_cells IS NOT NULL THEN
    PERFORM stats_recompute_cells(v_cells);
  END IF;
  -- the UTC days of every cell the pass changed, once, from their hours as they now are
  IF v_changes IS NOT NULL OR v_cells IS NOT NULL THEN
    PERFORM stats_recompute_days(ARRAY(
      SELECT DISTINCT ROW(c.org_id, c.workflow_id, c.channel, c.node_id, date_trunc('day', c.hour, 'UTC'))::stats_cell
        FROM (SELECT h.org_id, h.workflow_id, h.channel, h.node_id, h.hour FROM unnest(v_changes) h
              UNION ALL
              SELECT m.org_id, m.workflow_id, m.channel, m.node_id, m.hour FROM unnest(v_cells) m) c));
  END IF;
  IF v_taken < p_limit THEN
    UPDATE stats_rollup_progress SET refreshed_to = greatest(refreshed_to, v_started);
  END IF;
  RETURN v_taken;
END
$$;

-- Rebuilds the rollups of the UTC hours in [p_from, p_to) from the raw rows (all organisations; owner only), then the
-- UTC days those hours touch from their hourly rows. It does not stop writers: it waits for the job's lock (so the two
-- never write the same cell at once); each insert deletes the queued rows of its hours in the same statement, so what
-- writers commit after it read stays queued for the job's next pass. Hours it rebuilds equal the raw rows again, so a
-- retention horizon inside them moves back to the hour before them. Returns the number of hourly rollup rows written.
CREATE OR REPLACE FUNCTION rebuild_stats_rollups(p_from timestamptz, p_to timestamptz) RETURNS bigint
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

  WITH counted AS (
    DELETE FROM stats_dirty_cells q WHERE q.node_id IS NULL AND q.hour >= v_from AND q.hour < v_to)
  INSERT INTO trace_stats_hourly
         (org_id, workflow_id, channel, status, start_time, runs, timed, duration_sum, duration_min, duration_max,
          histogram_buckets, histogram_counts)
  SELECT b.org_id, b.workflow_id, b.channel, b.status, b.hour, sum(b.n), coalesce(sum(b.n) FILTER (WHERE b.bucket IS NOT NULL), 0),
         sum(b.total), min(b.lo), max(b.hi),
         coalesce(array_agg(b.bucket ORDER BY b.bucket) FILTER (WHERE b.bucket IS NOT NULL), '{}'),
         coalesce(array_agg(b.n ORDER BY b.bucket) FILTER (WHERE b.bucket IS NOT NULL), '{}')
    FROM (SELECT t.org_id, t.workflow_id, t.channel, t.status, date_trunc('hour', t.start_time, 'UTC') AS hour,
                 stats_duration_bucket(t.duration_ms) AS bucket, count(*) AS n, coalesce(sum(t.duration_ms), 0) AS total,
                 min(t.duration_ms) AS lo, max(t.duration_ms) AS hi
            FROM workflow_trace t
           WHERE t.start_time >= v_from AND t.start_time < v_to
           GROUP BY 1, 2, 3, 4, 5, 6) b
   GROUP BY 1, 2, 3, 4, 5;
  GET DIAGNOSTICS v_traces = ROW_COUNT;

  WITH counted AS (
    DELETE FROM stats_dirty_cells q WHERE q.node_id IS NOT NULL AND q.hour >= v_from AND q.hour < v_to)
  INSERT INTO step_stats_hourly
         (org_id, workflow_id, channel, node_id, status, start_time, steps, timed, duration_sum, duration_min, duration_max,
          histogram_buckets, histogram_counts)
  SELECT b.org_id, b.workflow_id, b.channel, b.node_id, b.status, b.hour, sum(b.n),
         coalesce(sum(b.n) FILTER (WHERE b.bucket IS NOT NULL), 0), sum(b.total), min(b.lo), max(b.hi),
         coalesce(array_agg(b.bucket ORDER BY b.bucket) FILTER (WHERE b.bucket IS NOT NULL), '{}'),
         coalesce(array_agg(b.n ORDER BY b.bucket) FILTER (WHERE b.bucket IS NOT NULL), '{}')
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

  PERFORM stats_recompute_days(NULL, date_trunc('day', v_from, 'UTC'),
                               date_trunc('day', v_to - interval '1 microsecond', 'UTC') + interval '24 hours');
  RETURN v_traces + v_steps;
END
$$;
