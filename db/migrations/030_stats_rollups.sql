-- Statistics rollups: runs and steps counted per organisation × workflow × channel (× node) × status × UTC hour,
-- with duration sums, min/max and a logarithmic duration histogram, kept up to date by triggers in the same
-- transaction as the state change (deferred to its end, see below). traceStats/stepStats read them instead of
-- scanning runs and steps.
--
-- What a rollup row holds is the sum of the contributions of the rows it covers, as they are now: a change of
-- status (or start time, which moves the hour) takes the row's old contribution out and puts its new one in.
-- Deletes take nothing out: retention (cleanup_old_execution_data) and cascades remove raw rows, and the rollups
-- keep them as the long-term history.
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
-- read only for the service: only the triggers below (as the owner) write rollups
GRANT SELECT ON trace_stats_hourly, step_stats_hourly TO workflowgraph_app;

-- One row's contribution entering (+1) or leaving (-1) a rollup row.
CREATE TYPE stats_rollup_change AS (
  org_id       uuid,
  workflow_id  uuid,
  channel      text,
  node_id      integer,
  status       text,
  start_time   timestamptz,
  duration_ms  bigint,
  sign         integer
);

-- Maintenance can be switched off for a session or database (`SET workflowgraph.stats_rollups = off`), for the
-- benchmark's comparison only: rollups are then wrong until rebuild_stats_rollups runs over the hours written.
CREATE FUNCTION stats_rollups_enabled() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, public, pg_temp
AS $$ SELECT coalesce(current_setting('workflowgraph.stats_rollups', true), '') NOT IN ('off', 'false', '0') $$;

-- The rollup rows of a set of contributions, one per key: counts and sums added up, min/max of what enters, and
-- the histogram of the durations (buckets summed first, then gathered per key).
CREATE FUNCTION stats_trace_deltas(p_changes stats_rollup_change[])
RETURNS TABLE (org_id uuid, workflow_id uuid, channel text, status text, start_time timestamptz, runs bigint, timed bigint,
               duration_sum bigint, duration_min bigint, duration_max bigint, histogram jsonb, removed_duration boolean)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT b.org_id, b.workflow_id, b.channel, b.status, b.start_time, sum(b.n)::bigint,
         coalesce(sum(b.n) FILTER (WHERE b.bucket IS NOT NULL), 0)::bigint, sum(b.total)::bigint, min(b.lo), max(b.hi),
         coalesce(jsonb_object_agg(b.bucket, b.n ORDER BY b.bucket) FILTER (WHERE b.bucket IS NOT NULL AND b.n <> 0), '{}'::jsonb),
         bool_or(b.removed)
    FROM (SELECT c.org_id, c.workflow_id, c.channel, c.status, c.start_time, stats_duration_bucket(c.duration_ms) AS bucket,
                 sum(c.sign) AS n, coalesce(sum(c.sign * c.duration_ms), 0) AS total,
                 min(c.duration_ms) FILTER (WHERE c.sign > 0) AS lo, max(c.duration_ms) FILTER (WHERE c.sign > 0) AS hi,
                 bool_or(c.sign < 0 AND c.duration_ms IS NOT NULL) AS removed
            FROM unnest(p_changes) c
           GROUP BY 1, 2, 3, 4, 5, 6) b
   GROUP BY 1, 2, 3, 4, 5
$$;

CREATE FUNCTION stats_step_deltas(p_changes stats_rollup_change[])
RETURNS TABLE (org_id uuid, workflow_id uuid, channel text, node_id integer, status text, start_time timestamptz, steps bigint,
               timed bigint, duration_sum bigint, duration_min bigint, duration_max bigint, histogram jsonb,
               removed_duration boolean)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT b.org_id, b.workflow_id, b.channel, b.node_id, b.status, b.start_time, sum(b.n)::bigint,
         coalesce(sum(b.n) FILTER (WHERE b.bucket IS NOT NULL), 0)::bigint, sum(b.total)::bigint, min(b.lo), max(b.hi),
         coalesce(jsonb_object_agg(b.bucket, b.n ORDER BY b.bucket) FILTER (WHERE b.bucket IS NOT NULL AND b.n <> 0), '{}'::jsonb),
         bool_or(b.removed)
    FROM (SELECT c.org_id, c.workflow_id, c.channel, c.node_id, c.status, c.start_time,
                 stats_duration_bucket(c.duration_ms) AS bucket,
                 sum(c.sign) AS n, coalesce(sum(c.sign * c.duration_ms), 0) AS total,
                 min(c.duration_ms) FILTER (WHERE c.sign > 0) AS lo, max(c.duration_ms) FILTER (WHERE c.sign > 0) AS hi,
                 bool_or(c.sign < 0 AND c.duration_ms IS NOT NULL) AS removed
            FROM unnest(p_changes) c
           GROUP BY 1, 2, 3, 4, 5, 6, 7) b
   GROUP BY 1, 2, 3, 4, 5, 6
$$;

-- Applies changes to trace_stats_hourly: one upsert in key order (concurrent writers lock rollup rows in the same
-- order), then exact min/max again for the rollup rows a duration left: min/max cannot be subtracted, so they are
-- read again from the raw rows of that hour (each statement of this function sees what committed before it, and
-- the upsert holds the rollup row's lock, so no writer of the same key can slip between).
CREATE FUNCTION stats_apply_trace_changes(p_changes stats_rollup_change[]) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  INSERT INTO trace_stats_hourly AS r
         (org_id, workflow_id, channel, status, start_time, runs, timed, duration_sum, duration_min, duration_max, histogram)
  SELECT d.org_id, d.workflow_id, d.channel, d.status, d.start_time, d.runs, d.timed, d.duration_sum, d.duration_min,
         d.duration_max, d.histogram
    FROM stats_trace_deltas(p_changes) d
   WHERE d.runs <> 0 OR d.timed <> 0 OR d.duration_sum <> 0 OR d.histogram <> '{}'::jsonb
   ORDER BY d.org_id, d.start_time, d.workflow_id, d.channel, d.status
  ON CONFLICT (org_id, start_time, workflow_id, channel, status) DO UPDATE
     SET runs = r.runs + excluded.runs,
         timed = r.timed + excluded.timed,
         duration_sum = r.duration_sum + excluded.duration_sum,
         duration_min = least(r.duration_min, excluded.duration_min),
         duration_max = greatest(r.duration_max, excluded.duration_max),
         histogram = stats_histogram_add(r.histogram, excluded.histogram);

  UPDATE trace_stats_hourly r
     SET duration_min = x.lo, duration_max = x.hi
    FROM stats_trace_deltas(p_changes) k
   CROSS JOIN LATERAL (
     SELECT min(t.duration_ms) AS lo, max(t.duration_ms) AS hi
       FROM workflow_trace t
      WHERE t.org_id = k.org_id AND t.workflow_id = k.workflow_id AND t.channel = k.channel AND t.status = k.status
        AND t.start_time >= k.start_time AND t.start_time < k.start_time + interval '1 hour') x
   WHERE k.removed_duration
     AND (r.org_id, r.workflow_id, r.channel, r.status, r.start_time) = (k.org_id, k.workflow_id, k.channel, k.status, k.start_time);
END
$$;

CREATE FUNCTION stats_apply_step_changes(p_changes stats_rollup_change[]) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  INSERT INTO step_stats_hourly AS r
         (org_id, workflow_id, channel, node_id, status, start_time, steps, timed, duration_sum, duration_min, duration_max,
          histogram)
  SELECT d.org_id, d.workflow_id, d.channel, d.node_id, d.status, d.start_time, d.steps, d.timed, d.duration_sum,
         d.duration_min, d.duration_max, d.histogram
    FROM stats_step_deltas(p_changes) d
   WHERE d.steps <> 0 OR d.timed <> 0 OR d.duration_sum <> 0 OR d.histogram <> '{}'::jsonb
   ORDER BY d.org_id, d.start_time, d.workflow_id, d.channel, d.node_id, d.status
  ON CONFLICT (org_id, start_time, workflow_id, channel, node_id, status) DO UPDATE
     SET steps = r.steps + excluded.steps,
         timed = r.timed + excluded.timed,
         duration_sum = r.duration_sum + excluded.duration_sum,
         duration_min = least(r.duration_min, excluded.duration_min),
         duration_max = greatest(r.duration_max, excluded.duration_max),
         histogram = stats_histogram_add(r.histogram, excluded.histogram);

  UPDATE step_stats_hourly r
     SET duration_min = x.lo, duration_max = x.hi
    FROM stats_step_deltas(p_changes) k
   CROSS JOIN LATERAL (
     SELECT min(s.duration_ms) AS lo, max(s.duration_ms) AS hi
       FROM workflow_steps s
       JOIN workflow_trace t ON t.id = s.trace_id
      WHERE s.org_id = k.org_id AND s.node_id = k.node_id AND s.status = k.status
        AND t.workflow_id = k.workflow_id AND t.channel = k.channel
        AND coalesce(s.start_time, s.created_at) >= k.start_time
        AND coalesce(s.start_time, s.created_at) < k.start_time + interval '1 hour') x
   WHERE k.removed_duration
     AND (r.org_id, r.workflow_id, r.channel, r.node_id, r.status, r.start_time)
         = (k.org_id, k.workflow_id, k.channel, k.node_id, k.status, k.start_time);
END
$$;

-- The triggers run as the owner (SECURITY DEFINER) because the service role may read rollups but not write them;
-- they write only rows derived from the row that fired them. They are deferred to the end of the writer's
-- transaction (constraint triggers, INITIALLY DEFERRED): still in its transaction, but a rollup row is locked only
-- from the commit's trigger to the commit itself, so concurrent writers of the same node and hour do not wait for
-- each other's whole transactions. Each insert or update event carries its own old and new row, so several changes
-- of one row in one transaction add up to the last one.
CREATE FUNCTION tg_workflow_trace__stats() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_changes stats_rollup_change[] := '{}';
BEGIN
  IF NOT stats_rollups_enabled() THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    IF (OLD.org_id, OLD.workflow_id, OLD.channel, OLD.status, OLD.start_time, OLD.duration_ms)
       IS NOT DISTINCT FROM (NEW.org_id, NEW.workflow_id, NEW.channel, NEW.status, NEW.start_time, NEW.duration_ms) THEN
      RETURN NULL;
    END IF;
    v_changes := v_changes || ROW(OLD.org_id, OLD.workflow_id, OLD.channel, NULL, OLD.status,
                                  date_trunc('hour', OLD.start_time, 'UTC'), OLD.duration_ms, -1)::stats_rollup_change;
  END IF;
  v_changes := v_changes || ROW(NEW.org_id, NEW.workflow_id, NEW.channel, NULL, NEW.status,
                                date_trunc('hour', NEW.start_time, 'UTC'), NEW.duration_ms, 1)::stats_rollup_change;
  PERFORM stats_apply_trace_changes(v_changes);
  RETURN NULL;
END
$$;

-- A step's workflow and channel are its run's.
CREATE FUNCTION tg_workflow_steps__stats() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_changes  stats_rollup_change[] := '{}';
  v_workflow uuid;
  v_channel  text;
BEGIN
  IF NOT stats_rollups_enabled() THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' AND (OLD.org_id, OLD.node_id, OLD.status, coalesce(OLD.start_time, OLD.created_at), OLD.duration_ms)
     IS NOT DISTINCT FROM (NEW.org_id, NEW.node_id, NEW.status, coalesce(NEW.start_time, NEW.created_at), NEW.duration_ms) THEN
    RETURN NULL;
  END IF;
  SELECT t.workflow_id, t.channel INTO v_workflow, v_channel FROM workflow_trace t WHERE t.id = NEW.trace_id;
  IF NOT FOUND THEN
    RETURN NULL; -- the run was deleted in the same transaction: deletes leave rollups alone
  END IF;
  IF TG_OP = 'UPDATE' THEN
    v_changes := v_changes || ROW(OLD.org_id, v_workflow, v_channel, OLD.node_id, OLD.status,
                                  date_trunc('hour', coalesce(OLD.start_time, OLD.created_at), 'UTC'), OLD.duration_ms,
                                  -1)::stats_rollup_change;
  END IF;
  v_changes := v_changes || ROW(NEW.org_id, v_workflow, v_channel, NEW.node_id, NEW.status,
                                date_trunc('hour', coalesce(NEW.start_time, NEW.created_at), 'UTC'), NEW.duration_ms,
                                1)::stats_rollup_change;
  PERFORM stats_apply_step_changes(v_changes);
  RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER tg_workflow_trace__stats AFTER INSERT OR UPDATE ON workflow_trace
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tg_workflow_trace__stats();
CREATE CONSTRAINT TRIGGER tg_workflow_steps__stats AFTER INSERT OR UPDATE ON workflow_steps
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tg_workflow_steps__stats();

-- Rebuilds the rollups of the UTC hours in [p_from, p_to) from the runs and steps that started in them (all
-- organisations; owner only). Writers wait while it runs (SHARE locks), so the result is exact. Hours whose raw rows
-- retention has removed lose their history: rebuild only hours that are still inside the retention window.
-- Returns the number of rollup rows written.
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
  LOCK TABLE workflow_trace, workflow_steps IN SHARE MODE;
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

GRANT EXECUTE ON FUNCTION tg_workflow_trace__stats(), tg_workflow_steps__stats() TO workflowgraph_app;

-- Used by the service's statistics statements.
GRANT EXECUTE ON FUNCTION stats_duration_bucket(bigint), stats_bucket_value(integer), stats_histogram_add(jsonb, jsonb),
  stats_histogram_percentile(jsonb, float8), stats_histogram_merge(jsonb) TO workflowgraph_app;

-- Rollups of what the database holds already.
SELECT rebuild_stats_rollups(
  coalesce(least((SELECT min(start_time) FROM workflow_trace), (SELECT min(coalesce(start_time, created_at)) FROM workflow_steps)), now()),
  greatest(coalesce(greatest((SELECT max(start_time) FROM workflow_trace),
                             (SELECT max(coalesce(start_time, created_at)) FROM workflow_steps)), now()), now()) + interval '1 hour');
