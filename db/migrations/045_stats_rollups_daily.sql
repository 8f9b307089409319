-- Statistics rollups that are cheap to read (030 made them exact; this makes a month of them quick to merge).
--
-- 1. Histograms become two arrays of the same length: histogram_buckets (integer[], ascending) and histogram_counts
--    (bigint[]), the non-empty buckets of 030's logarithmic mapping (relative accuracy 2%) and their counts. Merging
--    rows is unnest(buckets, counts) and a sum per bucket, in the statement, with nothing parsed: 030's jsonb objects
--    were taken apart into text keys and values for every row merged. (An array indexed by bucket would carry hundreds
--    of empty buckets below the shortest duration, and filling the gaps between buckets takes a function call per row:
--    SQL functions with subqueries cost ~170 µs a call here, which is what 030's percentile and merge functions spent.)
-- 2. A daily level: trace_stats_daily and step_stats_daily hold the same measures per UTC day, kept by the same job
--    from the same dirty cells: each pass recomputes the hourly cells it took from the raw rows, then the days of those
--    cells from their hourly rows. A 30-day series reads about 30 rows per key instead of 720. The days are UTC days,
--    so they answer buckets of a day or longer in UTC and the whole days of any window; buckets in other time zones and
--    the hours at the edges of a window that does not start or end at a UTC midnight come from the hourly rows
--    (Analytics/Stats/StatsSql). Retention keeps both: a day is recomputed from the hourly rows, which keep history.
--
-- Run-level and node-level rows were separate already (trace_stats_* and step_stats_*): traceStats never reads node rows.
--
-- Existing rollups are converted in place (the hourly histograms bucket for bucket) and the days built from them, so the
-- history that retention kept after its raw rows were deleted survives; rebuild_stats_rollups (below) rebuilds both
-- levels from the raw rows when asked.

ALTER TABLE trace_stats_hourly
  ADD COLUMN histogram_buckets integer[] NOT NULL DEFAULT '{}',
  ADD COLUMN histogram_counts bigint[] NOT NULL DEFAULT '{}';
ALTER TABLE step_stats_hourly
  ADD COLUMN histogram_buckets integer[] NOT NULL DEFAULT '{}',
  ADD COLUMN histogram_counts bigint[] NOT NULL DEFAULT '{}';
UPDATE trace_stats_hourly SET (histogram_buckets, histogram_counts) = (
  SELECT coalesce(array_agg(k::integer ORDER BY k::integer), '{}'), coalesce(array_agg(v::bigint ORDER BY k::integer), '{}')
    FROM jsonb_each_text(histogram) e (k, v) WHERE v::bigint <> 0)
 WHERE histogram <> '{}';
UPDATE step_stats_hourly SET (histogram_buckets, histogram_counts) = (
  SELECT coalesce(array_agg(k::integer ORDER BY k::integer), '{}'), coalesce(array_agg(v::bigint ORDER BY k::integer), '{}')
    FROM jsonb_each_text(histogram) e (k, v) WHERE v::bigint <> 0)
 WHERE histogram <> '{}';
ALTER TABLE trace_stats_hourly DROP COLUMN histogram;
ALTER TABLE step_stats_hourly DROP COLUMN histogram;

DROP AGGREGATE stats_histogram_merge(jsonb);
DROP FUNCTION stats_histogram_percentile(jsonb, float8);
DROP FUNCTION stats_histogram_add(jsonb, jsonb);

-- The value of the nearest-rank p-quantile (0 < p <= 1) of one histogram; NULL for an empty one. Statements over many
-- rows do the same for every group at once with window functions (StatsSql, the advice queries).
CREATE FUNCTION stats_histogram_percentile(p_buckets integer[], p_counts bigint[], p_quantile float8) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT stats_bucket_value(bucket)
    FROM (SELECT bucket, sum(n) OVER (ORDER BY bucket) AS running, sum(n) OVER () AS total
            FROM unnest(p_buckets, p_counts) u (bucket, n)) c
   WHERE running >= greatest(ceil(p_quantile * total), 1)
   ORDER BY bucket
   LIMIT 1
$$;

CREATE TABLE trace_stats_daily (
  org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  workflow_id   uuid NOT NULL,
  channel       workflow_channel NOT NULL,
  status        trace_status NOT NULL,
  -- the UTC day the runs started in (named like the raw column, as the hourly rows' is)
  start_time    timestamptz NOT NULL CHECK (start_time = date_trunc('day', start_time, 'UTC')),
  runs          bigint NOT NULL,
  timed         bigint NOT NULL,
  duration_sum  bigint NOT NULL,
  duration_min  bigint,
  duration_max  bigint,
  histogram_buckets  integer[] NOT NULL DEFAULT '{}',
  histogram_counts   bigint[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (org_id, start_time, workflow_id, channel, status)
);
CREATE INDEX ix_trace_stats_daily__org_workflow ON trace_stats_daily (org_id, workflow_id, start_time);

CREATE TABLE step_stats_daily (
  org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  workflow_id   uuid NOT NULL,
  channel       workflow_channel NOT NULL,
  node_id       integer NOT NULL,
  status        step_status NOT NULL,
  start_time    timestamptz NOT NULL CHECK (start_time = date_trunc('day', start_time, 'UTC')),
  steps         bigint NOT NULL,
  timed         bigint NOT NULL,
  duration_sum  bigint NOT NULL,
  duration_min  bigint,
  duration_max  bigint,
  histogram_buckets  integer[] NOT NULL DEFAULT '{}',
  histogram_counts   bigint[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (org_id, start_time, workflow_id, channel, node_id, status)
);
CREATE INDEX ix_step_stats_daily__org_workflow ON step_stats_daily (org_id, workflow_id, start_time);

ALTER TABLE trace_stats_daily ENABLE ROW LEVEL SECURITY;
ALTER TABLE step_stats_daily ENABLE ROW LEVEL SECURITY;
CREATE POLICY trace_stats_daily__tenant ON trace_stats_daily FOR ALL TO workflowgraph_app
  USING (org_id = app_current_org_id()) WITH CHECK (org_id = app_current_org_id());
CREATE POLICY step_stats_daily__tenant ON step_stats_daily FOR ALL TO workflowgraph_app
  USING (org_id = app_current_org_id()) WITH CHECK (org_id = app_current_org_id());
-- read only for the service: only the job (as the owner) writes rollups
GRANT SELECT ON trace_stats_daily, step_stats_daily TO workflowgraph_app;

-- Recomputes daily rows from their hourly rows: those of a set of days (cells whose hour is a UTC midnight), or with
-- p_days NULL, every day in [p_from, p_to) (a rebuild: one pass over the hourly rows instead of a lookup per day).
CREATE FUNCTION stats_recompute_days(p_days stats_cell[], p_from timestamptz DEFAULT NULL, p_to timestamptz DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  IF p_days IS NULL THEN
    DELETE FROM step_stats_daily WHERE start_time >= p_from AND start_time < p_to;
    DELETE FROM trace_stats_daily WHERE start_time >= p_from AND start_time < p_to;
  END IF;
  DELETE FROM trace_stats_daily r
   USING unnest(p_days) c
   WHERE c.node_id IS NULL
     AND (r.org_id, r.workflow_id, r.channel, r.start_time) = (c.org_id, c.workflow_id, c.channel, c.hour);
  DELETE FROM step_stats_daily r
   USING unnest(p_days) c
   WHERE c.node_id IS NOT NULL
     AND (r.org_id, r.workflow_id, r.channel, r.node_id, r.start_time) = (c.org_id, c.workflow_id, c.channel, c.node_id, c.hour);

  -- a UTC day is 24 hours (interval '1 day' would follow the session's time zone)
  INSERT INTO trace_stats_daily
         (org_id, workflow_id, channel, status, start_time, runs, timed, duration_sum, duration_min, duration_max,
          histogram_buckets, histogram_counts)
  WITH hours AS (
    SELECT h.*, c.hour AS day
      FROM (SELECT DISTINCT * FROM unnest(p_days) u WHERE u.node_id IS NULL) c
      JOIN trace_stats_hourly h
        ON h.org_id = c.org_id AND h.workflow_id = c.workflow_id AND h.channel = c.channel
       AND h.start_time >= c.hour AND h.start_time < c.hour + interval '24 hours'
    UNION ALL
    SELECT h.*, date_trunc('day', h.start_time, 'UTC')
      FROM trace_stats_hourly h
     WHERE p_days IS NULL AND h.start_time >= p_from AND h.start_time < p_to),
  buckets AS (
    SELECT org_id, workflow_id, channel, status, day, array_agg(bucket ORDER BY bucket) AS buckets, array_agg(n ORDER BY bucket) AS counts
      FROM (SELECT h.org_id, h.workflow_id, h.channel, h.status, h.day, u.bucket, sum(u.n)::bigint AS n
              FROM hours h CROSS JOIN LATERAL unnest(h.histogram_buckets, h.histogram_counts) u (bucket, n)
             GROUP BY 1, 2, 3, 4, 5, 6) x
     GROUP BY 1, 2, 3, 4, 5)
  SELECT g.org_id, g.workflow_id, g.channel, g.status, g.day, g.runs, g.timed, g.total, g.lo, g.hi,
         coalesce(b.buckets, '{}'), coalesce(b.counts, '{}')
    FROM (SELECT org_id, workflow_id, channel, status, day, sum(runs) AS runs, sum(timed) AS timed, sum(duration_sum) AS total,
                 min(duration_min) AS lo, max(duration_max) AS hi
            FROM hours GROUP BY 1, 2, 3, 4, 5) g
    LEFT JOIN buckets b USING (org_id, workflow_id, channel, status, day);

  INSERT INTO step_stats_daily
         (org_id, workflow_id, channel, node_id, status, start_time, steps, timed, duration_sum, duration_min, duration_max,
          histogram_buckets, histogram_counts)
  WITH hours AS (
    SELECT h.*, c.hour AS day
      FROM (SELECT DISTINCT * FROM unnest(p_days) u WHERE u.node_id IS NOT NULL) c
      JOIN step_stats_hourly h
        ON h.org_id = c.org_id AND h.workflow_id = c.workflow_id AND h.channel = c.channel AND h.node_id = c.node_id
       AND h.start_time >= c.hour AND h.start_time < c.hour + interval '24 hours'
    UNION ALL
    SELECT h.*, date_trunc('day', h.start_time, 'UTC')
      FROM step_stats_hourly h
     WHERE p_days IS NULL AND h.start_time >= p_from AND h.start_time < p_to),
  buckets AS (
    SELECT org_id, workflow_id, channel, node_id, status, day, array_agg(bucket ORDER BY bucket) AS buckets,
           array_agg(n ORDER BY bucket) AS counts
      FROM (SELECT h.org_id, h.workflow_id, h.channel, h.node_id, h.status, h.day, u.bucket, sum(u.n)::bigint AS n
              FROM hours h CROSS JOIN LATERAL unnest(h.histogram_buckets, h.histogram_counts) u (bucket, n)
             GROUP BY 1, 2, 3, 4, 5, 6, 7) x
     GROUP BY 1, 2, 3, 4, 5, 6)
  SELECT g.org_id, g.workflow_id, g.channel, g.node_id, g.status, g.day, g.steps, g.timed, g.total, g.lo, g.hi,
         coalesce(b.buckets, '{}'), coalesce(b.counts, '{}')
    FROM (SELECT org_id, workflow_id, channel, node_id, status, day, sum(steps) AS steps, sum(timed) AS timed,
                 sum(duration_sum) AS total, min(duration_min) AS lo, max(duration_max) AS hi
            FROM hours GROUP BY 1, 2, 3, 4, 5, 6) g
    LEFT JOIN buckets b USING (org_id, workflow_id, channel, node_id, status, day);
END
$$;

-- Recomputes the hourly rows of a set of cells from the raw rows (the cells' old rows go first), then their days.
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

  PERFORM stats_recompute_days(ARRAY(
    SELECT DISTINCT ROW(c.org_id, c.workflow_id, c.channel, c.node_id, date_trunc('day', c.hour, 'UTC'))::stats_cell
      FROM unnest(p_cells) c));
END
$$;

-- Rebuilds the rollups of the UTC hours in [p_from, p_to) from the raw rows (all organisations; owner only), then the
-- UTC days those hours touch from their hourly rows. It does not stop writers: it waits for the job's lock (so the two
-- never write the same cell at once), and what writers commit meanwhile is in stats_dirty_cells for the job's next
-- pass. Hours it rebuilds equal the raw rows again, so a retention horizon inside them moves back to the hour before
-- them. Returns the number of hourly rollup rows written.
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

GRANT EXECUTE ON FUNCTION stats_histogram_percentile(integer[], bigint[], float8) TO workflowgraph_app;

-- The days of the hourly rows there are (history kept by retention included).
SELECT stats_recompute_days(NULL, '-infinity', 'infinity');
