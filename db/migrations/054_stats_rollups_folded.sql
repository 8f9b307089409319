-- Statistics rollups folded over status (and, in named sets, over workflow, channel or node).
--
-- A statistics page reads its rollup cells and the service merges them (Analytics/Stats/StatsSql, StatsGroups): both
-- PostgreSQL's and the service's cost grow with the cells read. The per-status rows are one per organisation ×
-- workflow × channel (× node) × status × hour or UTC day, so a 30-day daily series per channel of one organisation of the
-- benchmark's 1M-run data set read 1,591 daily rows and 329 hourly ones (at its edges) to make 90 groups, and the node
-- statistics of one workflow 1,171 daily and 557 hourly rows for ten nodes; a page cost PostgreSQL ~3 ms and the service
-- 2-5 ms, and 16 clients queued behind each other.
--
-- A page that neither groups nor filters by status, and groups and filters only by some of the dimensions, needs no
-- more than one row per kept dimension value and period. The folded rows are those: for each hour and UTC day of an
-- organisation, one row per value of the kept dimensions of each set below, with the counts per status as two arrays
-- (status labels, counts) and one histogram of every status's durations. `kept` names the set as a bit mask: 1 the
-- workflow, 2 the channel, 4 the node; a dimension not kept is NULL.
--   runs:  3 (workflow, channel), 1 (workflow), 2 (channel), 0 (nothing: the organisation)
--   steps: 5 (workflow, node), 3 (workflow, channel), 1 (workflow), 2 (channel), 0
-- The same series now reads 87 daily and 71 hourly folded rows, the node statistics 290 and 230.
--
-- Folded rows also exist per UTC week (from Monday, hours = 168), made from the folded days of the week, and per block of
-- six hours (from 00, 06, 12, 18 UTC, hours = 6), made from the folded hours: a page without buckets (or with UTC weeks)
-- reads its whole weeks from them, the days around them from the daily rows; a page reading days reads the whole
-- blocks among its edge hours from the blocks.
--
-- The folded rows are derived from the per-status rows, never from the raw ones: after a pass of the job has written
-- its hourly rows and recomputed their UTC days, it recomputes the folded rows of every (organisation, hour) and
-- (organisation, day) it changed from the per-status rows as they now are (an organisation's hour holds a few dozen of
-- them), then the blocks of those hours and the weeks of those days from the folded ones, in the same transaction; a
-- rebuild recomputes those of its range. So they hold what the per-status rows hold,
-- at the same moment, and the checks that compare rollups with raw rows compare them too (Database/StatsRollupTests).

CREATE TABLE trace_stats_folded (
  org_id        uuid NOT NULL,
  -- the period: 1 an hour, 6 a block of six hours (from 00, 06, 12, 18 UTC), 24 a UTC day, 168 a UTC week (from
  -- Monday), starting at start_time
  hours         smallint NOT NULL CHECK (hours IN (1, 6, 24, 168)),
  kept          smallint NOT NULL CHECK (kept IN (0, 1, 2, 3)),
  start_time    timestamptz NOT NULL CHECK (start_time = CASE hours WHEN 6 THEN date_bin('6 hours', start_time, '2000-01-01 00:00+00')
                            ELSE date_trunc(CASE hours WHEN 1 THEN 'hour' WHEN 24 THEN 'day' ELSE 'week' END, start_time, 'UTC') END),
  workflow_id   uuid CHECK ((workflow_id IS NOT NULL) = (kept & 1 = 1)),
  channel       workflow_channel CHECK ((channel IS NOT NULL) = (kept & 2 = 2)),
  runs          bigint NOT NULL,
  timed         bigint NOT NULL,
  duration_sum  bigint NOT NULL,
  duration_min  bigint,
  duration_max  bigint,
  -- the statuses with runs (labels in the enum's order) and their counts
  statuses       text[] NOT NULL,
  status_counts  bigint[] NOT NULL CHECK (cardinality(status_counts) = cardinality(statuses)),
  histogram_buckets  integer[] NOT NULL DEFAULT '{}',
  histogram_counts   bigint[] NOT NULL DEFAULT '{}',
  CONSTRAINT trace_stats_folded__key UNIQUE NULLS NOT DISTINCT (org_id, hours, kept, start_time, workflow_id, channel)
);

CREATE TABLE step_stats_folded (
  org_id        uuid NOT NULL,
  hours         smallint NOT NULL CHECK (hours IN (1, 6, 24, 168)),
  kept          smallint NOT NULL CHECK (kept IN (0, 1, 2, 3, 5)),
  start_time    timestamptz NOT NULL CHECK (start_time = CASE hours WHEN 6 THEN date_bin('6 hours', start_time, '2000-01-01 00:00+00')
                            ELSE date_trunc(CASE hours WHEN 1 THEN 'hour' WHEN 24 THEN 'day' ELSE 'week' END, start_time, 'UTC') END),
  workflow_id   uuid CHECK ((workflow_id IS NOT NULL) = (kept & 1 = 1)),
  channel       workflow_channel CHECK ((channel IS NOT NULL) = (kept & 2 = 2)),
  node_id       integer CHECK ((node_id IS NOT NULL) = (kept & 4 = 4)),
  steps         bigint NOT NULL,
  timed         bigint NOT NULL,
  duration_sum  bigint NOT NULL,
  duration_min  bigint,
  duration_max  bigint,
  statuses       text[] NOT NULL,
  status_counts  bigint[] NOT NULL CHECK (cardinality(status_counts) = cardinality(statuses)),
  histogram_buckets  integer[] NOT NULL DEFAULT '{}',
  histogram_counts   bigint[] NOT NULL DEFAULT '{}',
  CONSTRAINT step_stats_folded__key UNIQUE NULLS NOT DISTINCT (org_id, hours, kept, start_time, workflow_id, channel, node_id)
);

-- The status counts packed as the histograms are (052): the binary form of the labels' array, then of the counts'.
CREATE FUNCTION stats_status_pack(p_statuses text[], p_counts bigint[]) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
  RETURN pg_catalog.array_send(p_statuses) OPERATOR(pg_catalog.||) pg_catalog.array_send(p_counts);
END
$$;

ALTER TABLE trace_stats_folded
  ADD COLUMN histogram bytea GENERATED ALWAYS AS (stats_histogram_pack(histogram_buckets, histogram_counts)) STORED,
  ADD COLUMN by_status bytea GENERATED ALWAYS AS (stats_status_pack(statuses, status_counts)) STORED;
ALTER TABLE step_stats_folded
  ADD COLUMN histogram bytea GENERATED ALWAYS AS (stats_histogram_pack(histogram_buckets, histogram_counts)) STORED,
  ADD COLUMN by_status bytea GENERATED ALWAYS AS (stats_status_pack(statuses, status_counts)) STORED;

ALTER TABLE trace_stats_folded ENABLE ROW LEVEL SECURITY;
ALTER TABLE step_stats_folded ENABLE ROW LEVEL SECURITY;
CREATE POLICY trace_stats_folded__tenant ON trace_stats_folded FOR ALL TO workflowgraph_app
  USING (org_id = app_current_org_id()) WITH CHECK (org_id = app_current_org_id());
CREATE POLICY step_stats_folded__tenant ON step_stats_folded FOR ALL TO workflowgraph_app
  USING (org_id = app_current_org_id()) WITH CHECK (org_id = app_current_org_id());
-- read only for the service: only the job (as the owner) writes rollups
GRANT SELECT ON trace_stats_folded, step_stats_folded TO workflowgraph_app;

-- An organisation's hour (hours = 1) or UTC day (hours = 24).
CREATE TYPE stats_period AS (
  org_id      uuid,
  hours       smallint,
  start_time  timestamptz
);

-- Recomputes the folded spans of p_spans from the folded periods in them: a UTC week (hours = 168, from Monday) from its
-- days, a block of six hours (hours = 6, from 00, 06, 12 or 18 UTC) from its hours. A page without buckets (or with UTC
-- weeks) reads whole weeks from these, and a page reading days reads the whole blocks of its edge hours from them.
CREATE FUNCTION stats_recompute_folded_spans(p_spans stats_period[]) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  DELETE FROM trace_stats_folded f USING (SELECT DISTINCT * FROM unnest(p_spans)) p
   WHERE f.org_id = p.org_id AND f.hours = p.hours AND f.start_time = p.start_time;
  DELETE FROM step_stats_folded f USING (SELECT DISTINCT * FROM unnest(p_spans)) p
   WHERE f.org_id = p.org_id AND f.hours = p.hours AND f.start_time = p.start_time;

  -- each member period's counts per status (its totals on its first status only), and its buckets, grouped by the
  -- span's key
  INSERT INTO trace_stats_folded
         (org_id, hours, kept, start_time, workflow_id, channel, runs, timed, duration_sum, duration_min, duration_max,
          statuses, status_counts, histogram_buckets, histogram_counts)
  WITH spans AS (SELECT DISTINCT * FROM unnest(p_spans)),
  members AS (
    SELECT w.hours AS span, w.start_time AS span_start, d.*
      FROM spans w
     CROSS JOIN (VALUES (0::smallint), (1::smallint), (2::smallint), (3::smallint)) k (kept)
      JOIN trace_stats_folded d
        ON d.org_id = w.org_id AND d.hours = CASE w.hours WHEN 6 THEN 1 ELSE 24 END AND d.kept = k.kept
       AND d.start_time >= w.start_time AND d.start_time < w.start_time + make_interval(hours => w.hours)),
  parts AS (
    SELECT d.org_id, d.span, d.span_start, d.kept, d.workflow_id AS w, d.channel AS c, true AS of_status, s.label AS status, NULL::integer AS b,
           s.n AS m, CASE WHEN s.i = 1 THEN d.runs END AS n, CASE WHEN s.i = 1 THEN d.timed END AS timed,
           CASE WHEN s.i = 1 THEN d.duration_sum END AS total, d.duration_min AS lo, d.duration_max AS hi
      FROM members d CROSS JOIN LATERAL unnest(d.statuses, d.status_counts) WITH ORDINALITY s (label, n, i)
    UNION ALL
    SELECT d.org_id, d.span, d.span_start, d.kept, d.workflow_id, d.channel, false, NULL, u.b, u.m, NULL, NULL, NULL, NULL, NULL
      FROM members d CROSS JOIN LATERAL unnest(d.histogram_buckets, d.histogram_counts) u (b, m)),
  grouped AS (
    SELECT org_id, span, span_start, kept, w, c, of_status, status, b, sum(m)::bigint AS m, sum(n)::bigint AS n, sum(timed)::bigint AS timed,
           sum(total)::bigint AS total, min(lo) AS lo, max(hi) AS hi
      FROM parts GROUP BY org_id, span, span_start, kept, w, c, of_status, status, b)
  SELECT org_id, span, kept, span_start, w, c, sum(n), sum(timed), sum(total), min(lo), max(hi),
         array_agg(status ORDER BY status::trace_status) FILTER (WHERE of_status),
         array_agg(m ORDER BY status::trace_status) FILTER (WHERE of_status),
         coalesce(array_agg(b ORDER BY b) FILTER (WHERE NOT of_status), '{}'),
         coalesce(array_agg(m ORDER BY b) FILTER (WHERE NOT of_status), '{}')
    FROM grouped
   GROUP BY org_id, span, span_start, kept, w, c;

  INSERT INTO step_stats_folded
         (org_id, hours, kept, start_time, workflow_id, channel, node_id, steps, timed, duration_sum, duration_min, duration_max,
          statuses, status_counts, histogram_buckets, histogram_counts)
  WITH spans AS (SELECT DISTINCT * FROM unnest(p_spans)),
  members AS (
    SELECT w.hours AS span, w.start_time AS span_start, d.*
      FROM spans w
     CROSS JOIN (VALUES (0::smallint), (1::smallint), (2::smallint), (3::smallint), (5::smallint)) k (kept)
      JOIN step_stats_folded d
        ON d.org_id = w.org_id AND d.hours = CASE w.hours WHEN 6 THEN 1 ELSE 24 END AND d.kept = k.kept
       AND d.start_time >= w.start_time AND d.start_time < w.start_time + make_interval(hours => w.hours)),
  parts AS (
    SELECT d.org_id, d.span, d.span_start, d.kept, d.workflow_id AS w, d.channel AS c, d.node_id AS nd, true AS of_status, s.label AS status,
           NULL::integer AS b, s.n AS m, CASE WHEN s.i = 1 THEN d.steps END AS n, CASE WHEN s.i = 1 THEN d.timed END AS timed,
           CASE WHEN s.i = 1 THEN d.duration_sum END AS total, d.duration_min AS lo, d.duration_max AS hi
      FROM members d CROSS JOIN LATERAL unnest(d.statuses, d.status_counts) WITH ORDINALITY s (label, n, i)
    UNION ALL
    SELECT d.org_id, d.span, d.span_start, d.kept, d.workflow_id, d.channel, d.node_id, false, NULL, u.b, u.m, NULL, NULL, NULL, NULL, NULL
      FROM members d CROSS JOIN LATERAL unnest(d.histogram_buckets, d.histogram_counts) u (b, m)),
  grouped AS (
    SELECT org_id, span, span_start, kept, w, c, nd, of_status, status, b, sum(m)::bigint AS m, sum(n)::bigint AS n,
           sum(timed)::bigint AS timed, sum(total)::bigint AS total, min(lo) AS lo, max(hi) AS hi
      FROM parts GROUP BY org_id, span, span_start, kept, w, c, nd, of_status, status, b)
  SELECT org_id, span, kept, span_start, w, c, nd, sum(n), sum(timed), sum(total), min(lo), max(hi),
         array_agg(status ORDER BY status::step_status) FILTER (WHERE of_status),
         array_agg(m ORDER BY status::step_status) FILTER (WHERE of_status),
         coalesce(array_agg(b ORDER BY b) FILTER (WHERE NOT of_status), '{}'),
         coalesce(array_agg(m ORDER BY b) FILTER (WHERE NOT of_status), '{}')
    FROM grouped
   GROUP BY org_id, span, span_start, kept, w, c, nd;
END
$$;

-- Recomputes the folded rows of the periods from their per-status rows (hourly for hours, daily for days): of
-- p_periods, or when it is NULL of every period starting in [p_from, p_to); then the blocks of six hours and the weeks
-- of the hours and days among them.
CREATE FUNCTION stats_recompute_folded(p_periods stats_period[], p_from timestamptz DEFAULT NULL, p_to timestamptz DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_periods     stats_period[] := p_periods;
  v_weeks_from  timestamptz;
  v_weeks_to    timestamptz;
BEGIN
  IF p_periods IS NULL THEN
    -- (the blocks and weeks the range touches are recomputed below from their hours and days)
    DELETE FROM trace_stats_folded WHERE start_time >= p_from AND start_time < p_to AND hours IN (1, 24);
    DELETE FROM step_stats_folded WHERE start_time >= p_from AND start_time < p_to AND hours IN (1, 24);

    v_periods := ARRAY(
      SELECT DISTINCT ROW(r.org_id, r.hours, r.start_time)::stats_period
        FROM (SELECT org_id, 1::smallint AS hours, start_time FROM trace_stats_hourly WHERE start_time >= p_from AND start_time < p_to
              UNION
              SELECT org_id, 1::smallint, start_time FROM step_stats_hourly WHERE start_time >= p_from AND start_time < p_to
              UNION
              SELECT org_id, 24::smallint, start_time FROM trace_stats_daily WHERE start_time >= p_from AND start_time < p_to
              UNION
              SELECT org_id, 24::smallint, start_time FROM step_stats_daily WHERE start_time >= p_from AND start_time < p_to) r);
  ELSE
    DELETE FROM trace_stats_folded f USING (SELECT DISTINCT * FROM unnest(p_periods)) p
     WHERE f.org_id = p.org_id AND f.hours = p.hours AND f.start_time = p.start_time;
    DELETE FROM step_stats_folded f USING (SELECT DISTINCT * FROM unnest(p_periods)) p
     WHERE f.org_id = p.org_id AND f.hours = p.hours AND f.start_time = p.start_time;
  END IF;

  -- each source row in each set, its histogram unnested (the row's own values on its first bucket only); then one pass
  -- groups the set's rows both by status and by bucket, and the last gathers both into the set's row
  INSERT INTO trace_stats_folded
         (org_id, hours, kept, start_time, workflow_id, channel, runs, timed, duration_sum, duration_min, duration_max,
          statuses, status_counts, histogram_buckets, histogram_counts)
  WITH periods AS (SELECT DISTINCT * FROM unnest(v_periods)),
  source AS (
    SELECT p.hours, r.org_id, r.start_time, r.workflow_id, r.channel, r.status, r.runs AS n, r.timed, r.duration_sum,
           r.duration_min, r.duration_max, r.histogram_buckets, r.histogram_counts
      FROM periods p JOIN trace_stats_hourly r ON r.org_id = p.org_id AND r.start_time = p.start_time
     WHERE p.hours = 1
    UNION ALL
    SELECT p.hours, r.org_id, r.start_time, r.workflow_id, r.channel, r.status, r.runs, r.timed, r.duration_sum,
           r.duration_min, r.duration_max, r.histogram_buckets, r.histogram_counts
      FROM periods p JOIN trace_stats_daily r ON r.org_id = p.org_id AND r.start_time = p.start_time
     WHERE p.hours = 24),
  cells AS (
    SELECT s.hours, s.org_id, s.start_time, k.kept,
           CASE WHEN k.kept & 1 = 1 THEN s.workflow_id END AS w, CASE WHEN k.kept & 2 = 2 THEN s.channel END AS c,
           s.status, u.b, u.m, CASE WHEN u.i IS NULL OR u.i = 1 THEN s.n END AS n,
           CASE WHEN u.i IS NULL OR u.i = 1 THEN s.timed END AS timed,
           CASE WHEN u.i IS NULL OR u.i = 1 THEN s.duration_sum END AS total, s.duration_min AS lo, s.duration_max AS hi
      FROM source s
     CROSS JOIN (VALUES (0::smallint), (1::smallint), (2::smallint), (3::smallint)) k (kept)
      LEFT JOIN LATERAL unnest(s.histogram_buckets, s.histogram_counts) WITH ORDINALITY u (b, m, i) ON true),
  parts AS (
    SELECT hours, org_id, start_time, kept, w, c, status, b, GROUPING(status) = 0 AS of_status, sum(n)::bigint AS n,
           sum(timed)::bigint AS timed, sum(total)::bigint AS total, min(lo) AS lo, max(hi) AS hi, sum(m)::bigint AS m
      FROM cells
     GROUP BY hours, org_id, start_time, kept, w, c, GROUPING SETS ((status), (b)))
  SELECT org_id, hours, kept, start_time, w, c, sum(n) FILTER (WHERE of_status), sum(timed) FILTER (WHERE of_status),
         sum(total) FILTER (WHERE of_status), min(lo) FILTER (WHERE of_status), max(hi) FILTER (WHERE of_status),
         array_agg(status::text ORDER BY status) FILTER (WHERE of_status), array_agg(n ORDER BY status) FILTER (WHERE of_status),
         coalesce(array_agg(b ORDER BY b) FILTER (WHERE NOT of_status AND b IS NOT NULL), '{}'),
         coalesce(array_agg(m ORDER BY b) FILTER (WHERE NOT of_status AND b IS NOT NULL), '{}')
    FROM parts
   GROUP BY org_id, hours, kept, start_time, w, c;

  INSERT INTO step_stats_folded
         (org_id, hours, kept, start_time, workflow_id, channel, node_id, steps, timed, duration_sum, duration_min, duration_max,
          statuses, status_counts, histogram_buckets, histogram_counts)
  WITH periods AS (SELECT DISTINCT * FROM unnest(v_periods)),
  source AS (
    SELECT p.hours, r.org_id, r.start_time, r.workflow_id, r.channel, r.node_id, r.status, r.steps AS n, r.timed,
           r.duration_sum, r.duration_min, r.duration_max, r.histogram_buckets, r.histogram_counts
      FROM periods p JOIN step_stats_hourly r ON r.org_id = p.org_id AND r.start_time = p.start_time
     WHERE p.hours = 1
    UNION ALL
    SELECT p.hours, r.org_id, r.start_time, r.workflow_id, r.channel, r.node_id, r.status, r.steps, r.timed,
           r.duration_sum, r.duration_min, r.duration_max, r.histogram_buckets, r.histogram_counts
      FROM periods p JOIN step_stats_daily r ON r.org_id = p.org_id AND r.start_time = p.start_time
     WHERE p.hours = 24),
  cells AS (
    SELECT s.hours, s.org_id, s.start_time, k.kept,
           CASE WHEN k.kept & 1 = 1 THEN s.workflow_id END AS w, CASE WHEN k.kept & 2 = 2 THEN s.channel END AS c,
           CASE WHEN k.kept & 4 = 4 THEN s.node_id END AS nd,
           s.status, u.b, u.m, CASE WHEN u.i IS NULL OR u.i = 1 THEN s.n END AS n,
           CASE WHEN u.i IS NULL OR u.i = 1 THEN s.timed END AS timed,
           CASE WHEN u.i IS NULL OR u.i = 1 THEN s.duration_sum END AS total, s.duration_min AS lo, s.duration_max AS hi
      FROM source s
     CROSS JOIN (VALUES (0::smallint), (1::smallint), (2::smallint), (3::smallint), (5::smallint)) k (kept)
      LEFT JOIN LATERAL unnest(s.histogram_buckets, s.histogram_counts) WITH ORDINALITY u (b, m, i) ON true),
  parts AS (
    SELECT hours, org_id, start_time, kept, w, c, nd, status, b, GROUPING(status) = 0 AS of_status, sum(n)::bigint AS n,
           sum(timed)::bigint AS timed, sum(total)::bigint AS total, min(lo) AS lo, max(hi) AS hi, sum(m)::bigint AS m
      FROM cells
     GROUP BY hours, org_id, start_time, kept, w, c, nd, GROUPING SETS ((status), (b)))
  SELECT org_id, hours, kept, start_time, w, c, nd, sum(n) FILTER (WHERE of_status), sum(timed) FILTER (WHERE of_status),
         sum(total) FILTER (WHERE of_status), min(lo) FILTER (WHERE of_status), max(hi) FILTER (WHERE of_status),
         array_agg(status::text ORDER BY status) FILTER (WHERE of_status), array_agg(n ORDER BY status) FILTER (WHERE of_status),
         coalesce(array_agg(b ORDER BY b) FILTER (WHERE NOT of_status AND b IS NOT NULL), '{}'),
         coalesce(array_agg(m ORDER BY b) FILTER (WHERE NOT of_status AND b IS NOT NULL), '{}')
    FROM parts
   GROUP BY org_id, hours, kept, start_time, w, c, nd;

  -- and the blocks of its hours and the UTC weeks of its days, from their folded hours and days as they now are (of a
  -- range: every block and week it touches, their hours and days in the range or not)
  IF p_periods IS NULL THEN
    v_weeks_from := date_trunc('week', p_from, 'UTC');
    v_weeks_to := date_trunc('week', p_to - interval '1 microsecond', 'UTC') + interval '168 hours';
    PERFORM stats_recompute_folded_spans(ARRAY(
      SELECT DISTINCT ROW(d.org_id, d.span, d.start_time)::stats_period
        FROM (SELECT org_id, 168::smallint AS span, date_trunc('week', start_time, 'UTC') AS start_time FROM trace_stats_folded
               WHERE hours IN (24, 168) AND start_time >= v_weeks_from AND start_time < v_weeks_to
              UNION
              SELECT org_id, 168::smallint, date_trunc('week', start_time, 'UTC') FROM step_stats_folded
               WHERE hours IN (24, 168) AND start_time >= v_weeks_from AND start_time < v_weeks_to
              UNION
              SELECT org_id, 6::smallint, date_bin('6 hours', start_time, '2000-01-01 00:00+00') FROM trace_stats_folded
               WHERE hours IN (1, 6) AND start_time >= v_weeks_from AND start_time < v_weeks_to
              UNION
              SELECT org_id, 6::smallint, date_bin('6 hours', start_time, '2000-01-01 00:00+00') FROM step_stats_folded
               WHERE hours IN (1, 6) AND start_time >= v_weeks_from AND start_time < v_weeks_to) d));
  ELSE
    PERFORM stats_recompute_folded_spans(ARRAY(
      SELECT DISTINCT CASE p.hours
               WHEN 24 THEN ROW(p.org_id, 168, date_trunc('week', p.start_time, 'UTC'))::stats_period
               ELSE ROW(p.org_id, 6, date_bin('6 hours', p.start_time, '2000-01-01 00:00+00'))::stats_period END
        FROM unnest(v_periods) p));
  END IF;
END
$$;

-- 053's pass, and then the folded rows of every organisation's hour and UTC day it changed.
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
    -- and the folded rows of their organisations' hours and days, from the per-status rows as they now are
    PERFORM stats_recompute_folded(ARRAY(
      SELECT DISTINCT ROW(c.org_id, p.hours, p.start_time)::stats_period
        FROM (SELECT h.org_id, h.hour FROM unnest(v_changes) h
              UNION
              SELECT m.org_id, m.hour FROM unnest(v_cells) m) c
       CROSS JOIN LATERAL (VALUES (1::smallint, c.hour), (24::smallint, date_trunc('day', c.hour, 'UTC'))) p (hours, start_time)));
  END IF;
  IF v_taken < p_limit THEN
    UPDATE stats_rollup_progress SET refreshed_to = greatest(refreshed_to, v_started);
  END IF;
  RETURN v_taken;
END
$$;

-- 053's rebuild, and then the folded rows of the UTC days its hours touch (hours and days).
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
  PERFORM stats_recompute_folded(NULL, date_trunc('day', v_from, 'UTC'),
                                 date_trunc('day', v_to - interval '1 microsecond', 'UTC') + interval '24 hours');
  RETURN v_traces + v_steps;
END
$$;

-- the folded rows of every period the rollups hold; the organisations' keys checked once after (row by row, the check
-- cost as much as the rows)
SELECT stats_recompute_folded(NULL, '-infinity', 'infinity');
ALTER TABLE trace_stats_folded ADD FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE;
ALTER TABLE step_stats_folded ADD FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE;
