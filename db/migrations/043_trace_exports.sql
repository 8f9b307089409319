-- Exports of runs (exportTraces): a tracked job per request, worked in the background by the service, which writes the
-- runs it matched (with their steps, context and events) to a file as JSON Lines or Parquet. By default the file is
-- de-identified: every value the masking of 036/040 would redact is replaced by a pseudonym, an HMAC-SHA-256 of the value
-- under a secret of the organisation's own, so the same value reads the same throughout an organisation's exports and
-- cannot be matched to another organisation's.
--
-- The request (request_export_job) freezes the matching run ids (bounded by the caller); the worker claims a job under a
-- lease (claim_export_job, across organisations), reads and writes it as the requesting tenant, and finishes it
-- (finish_export_job) or fails it (fail_export_job). A job whose instance went away is claimed again when its lease
-- expires, at most p_max_attempts times: then it fails, so no job stays running. expire_export_jobs hands the worker
-- the files past their expiry.

-- The organisations' pseudonym secrets, kept as HMAC-SHA-256's two padded keys (the secret XOR 0x36 and XOR 0x5c, 64
-- bytes each). No policy and no grant: the service role reaches them only through phi_pseudonym_pads().
CREATE TABLE phi_pseudonym_keys (
  org_id      uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
  inner_pad   bytea NOT NULL CHECK (length(inner_pad) = 64),
  outer_pad   bytea NOT NULL CHECK (length(outer_pad) = 64),
  created_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE phi_pseudonym_keys ENABLE ROW LEVEL SECURITY;
COMMENT ON TABLE phi_pseudonym_keys IS 'per-organisation secrets of the pseudonyms in de-identified exports';

-- The caller's organisation's padded keys (inner || outer), made on first use from 366 bits of gen_random_uuid()'s
-- strong randomness. SECURITY DEFINER because the table is closed to the service role; narrow: only the caller's
-- organisation's row, and it is never changed once made.
CREATE FUNCTION phi_pseudonym_pads() RETURNS bytea
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_org    uuid := app_current_org_id();
  v_pads   bytea;
  v_key    bytea;
  v_inner  bytea;
  v_outer  bytea;
  i        integer;
BEGIN
  IF v_org IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'pseudonyms need an organisation';
  END IF;
  SELECT k.inner_pad || k.outer_pad INTO v_pads FROM phi_pseudonym_keys k WHERE k.org_id = v_org;
  IF FOUND THEN
    RETURN v_pads;
  END IF;
  v_key := sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8'))
           || decode(repeat('00', 32), 'hex');
  v_inner := v_key;
  v_outer := v_key;
  FOR i IN 0..63 LOOP
    v_inner := set_byte(v_inner, i, get_byte(v_key, i) # 54);
    v_outer := set_byte(v_outer, i, get_byte(v_key, i) # 92);
  END LOOP;
  INSERT INTO phi_pseudonym_keys (org_id, inner_pad, outer_pad) VALUES (v_org, v_inner, v_outer)
  ON CONFLICT (org_id) DO NOTHING;
  SELECT k.inner_pad || k.outer_pad INTO v_pads FROM phi_pseudonym_keys k WHERE k.org_id = v_org;
  RETURN v_pads;
END
$$;

-- HMAC-SHA-256 of a text under the padded keys, as 'pseu_' and 32 hex digits (128 bits).
CREATE FUNCTION phi_pseudonym(p_value text, p_pads bytea) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN p_value IS NULL THEN NULL
              ELSE 'pseu_' || pg_catalog.left(pg_catalog.encode(pg_catalog.sha256(
                     pg_catalog.substr(p_pads, 65, 64) || pg_catalog.sha256(
                       pg_catalog.substr(p_pads, 1, 64) || pg_catalog.convert_to(p_value, 'UTF8'))), 'hex'), 32) END
$$;

-- A JSON value's pseudonym: a string's of its text (so an identifier reads the same in a column and in JSON), any other
-- value's of its JSON text; JSON null stays null.
CREATE FUNCTION phi_pseudonym_json(p_value jsonb, p_pads bytea) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN p_value IS NULL OR p_value = 'null'::jsonb THEN p_value
              WHEN pg_catalog.jsonb_typeof(p_value) = 'string' THEN pg_catalog.to_jsonb(public.phi_pseudonym(p_value #>> '{}', p_pads))
              ELSE pg_catalog.to_jsonb(public.phi_pseudonym(p_value::text, p_pads)) END
$$;

-- De-identification by the masking's own rules: p_masked is what 040's functions make of p_raw for a reader without
-- phi:read. Where they redact the whole value, the value is replaced by its pseudonym; where they redact keys of an
-- object (all of 040's rules work on top-level keys), each such key's value is. Nothing else changes.
CREATE FUNCTION phi_deidentify(p_raw jsonb, p_masked jsonb, p_pads bytea) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN p_raw IS NULL OR p_masked = p_raw THEN p_raw
              WHEN pg_catalog.jsonb_typeof(p_raw) = 'object' AND pg_catalog.jsonb_typeof(p_masked) = 'object'
                THEN p_raw || coalesce((SELECT pg_catalog.jsonb_object_agg(e.key, public.phi_pseudonym_json(e.value, p_pads))
                                          FROM pg_catalog.jsonb_each(p_raw) e
                                         WHERE (p_masked -> e.key) IS DISTINCT FROM e.value), '{}'::jsonb)
              ELSE public.phi_pseudonym_json(p_raw, p_pads) END
$$;

CREATE FUNCTION phi_deidentify_text(p_raw text, p_masked text, p_pads bytea) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN p_raw IS NOT DISTINCT FROM p_masked THEN p_raw ELSE public.phi_pseudonym(p_raw, p_pads) END $$;

CREATE TABLE export_jobs (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org_id            uuid NOT NULL DEFAULT app_current_org_id() REFERENCES organizations (id) ON DELETE CASCADE,
  status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'completed', 'failed', 'expired')),
  format            text NOT NULL CHECK (format IN ('jsonl', 'parquet')),
  deidentify        boolean NOT NULL,
  -- the runs the filter matched at request, frozen (bounded by the service's Export:MaxRuns)
  trace_ids         bigint[] NOT NULL CHECK (cardinality(trace_ids) <= 1000000),
  matched           integer NOT NULL CHECK (matched >= 0),
  runs_written      integer,
  steps_written     integer,
  context_written   integer,
  events_written    integer,
  bytes             bigint,
  -- the file's name in the export directory (under the organisation's folder), once written
  file_name         text CHECK (file_name ~ '^[A-Za-z0-9_.-]{1,200}$'),
  error             text CHECK (length(error) <= 1000),
  attempts          integer NOT NULL DEFAULT 0,
  requested_by      uuid DEFAULT app_current_user_id(),
  requested_at      timestamptz NOT NULL DEFAULT now(),
  started_at        timestamptz,
  finished_at       timestamptz,
  expires_at        timestamptz,
  worker_name       text CHECK (length(worker_name) BETWEEN 1 AND 200),
  lease_expires_at  timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT export_jobs_finished CHECK ((status IN ('completed', 'failed', 'expired')) = (finished_at IS NOT NULL)),
  CONSTRAINT export_jobs_file CHECK (status <> 'completed' OR file_name IS NOT NULL)
);
COMMENT ON TABLE export_jobs IS 'an export of runs to a file: its arguments, progress, file and the lease of the instance working it';

CREATE INDEX ix_export_jobs__open ON export_jobs (requested_at, id) WHERE status IN ('pending', 'running');
CREATE INDEX ix_export_jobs__expiring ON export_jobs (expires_at) WHERE status = 'completed';
CREATE INDEX ix_export_jobs__org_requested ON export_jobs (org_id, requested_at DESC, id DESC);

CREATE TRIGGER tg_export_jobs__set_updated_at BEFORE UPDATE ON export_jobs
  FOR EACH ROW EXECUTE FUNCTION tg__set_updated_at();

ALTER TABLE export_jobs ENABLE ROW LEVEL SECURITY;
CREATE POLICY export_jobs__tenant ON export_jobs TO workflowgraph_app
  USING (org_id = app_current_org_id()) WITH CHECK (org_id = app_current_org_id());
GRANT SELECT, INSERT, UPDATE ON export_jobs TO workflowgraph_app;

-- Records an export of p_trace_ids (read by the caller with LIMIT p_max_runs + 1: never a full count). More than
-- p_max_runs is refused (WF003 on where) before anything is written, and so is an export as stored (p_deidentify
-- false) without phi:read. Leaves the job's id in wg.mutation_key.
CREATE FUNCTION request_export_job(p_trace_ids bigint[], p_format text, p_deidentify boolean, p_max_runs integer)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_matched  integer := coalesce(cardinality(p_trace_ids), 0);
  v_id       bigint;
BEGIN
  IF p_format IS NULL OR p_format NOT IN ('jsonl', 'parquet') THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'format must be jsonl or parquet',
      DETAIL = '[{"field": "format", "message": "must be JSONL or PARQUET"}]';
  END IF;
  -- an export as stored shows PHI: only to a caller who may read it (WFP01: FORBIDDEN), like a filter on a classified column
  IF NOT coalesce(p_deidentify, true) AND NOT phi_read_allowed() THEN
    RAISE EXCEPTION USING ERRCODE = 'WFP01', MESSAGE = 'an export that is not de-identified needs the phi:read scope';
  END IF;
  IF p_max_runs IS NULL OR p_max_runs < 1 THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'max_runs must be positive';
  END IF;
  IF v_matched > p_max_runs THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003',
      MESSAGE = format('the filter matches more than %s runs, the limit of one export', p_max_runs),
      DETAIL = format('[{"field": "where", "message": "matches more than %s runs, the limit of one export: narrow it"}]', p_max_runs);
  END IF;
  INSERT INTO export_jobs (org_id, format, deidentify, trace_ids, matched, requested_by)
  VALUES (app_current_org_id(), p_format, coalesce(p_deidentify, true),
          ARRAY(SELECT DISTINCT i FROM unnest(p_trace_ids) i ORDER BY i), v_matched, app_current_user_id())
  RETURNING id INTO v_id;
  PERFORM set_config('wg.mutation_key', v_id::text, true);
  RETURN v_id;
END
$$;

-- The worker's claim, across organisations (SECURITY DEFINER, like claim_bulk_operation; it only moves leases): first
-- every open job whose lease expired after p_max_attempts claims fails (an export that keeps killing its instance
-- must not keep being taken), then the oldest open job no instance holds is p_worker's for p_lease_seconds.
CREATE FUNCTION claim_export_job(p_worker text, p_lease_seconds integer, p_max_attempts integer)
RETURNS TABLE (job_id bigint, org_id uuid, requested_by uuid, format text, deidentify boolean, attempt integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_job  export_jobs%ROWTYPE;
BEGIN
  IF p_worker IS NULL OR length(p_worker) NOT BETWEEN 1 AND 200 OR p_lease_seconds IS NULL OR p_lease_seconds < 1
     OR p_max_attempts IS NULL OR p_max_attempts < 1 THEN
    RAISE EXCEPTION USING ERRCODE = 'WF003', MESSAGE = 'a worker name, a positive lease and attempts are needed';
  END IF;
  UPDATE export_jobs j
     SET status = 'failed', finished_at = clock_timestamp(), lease_expires_at = NULL,
         error = format('the export was interrupted %s times (its instance stopped or went away)', j.attempts)
   WHERE j.status IN ('pending', 'running') AND j.attempts >= p_max_attempts
     AND (j.lease_expires_at IS NULL OR j.lease_expires_at < clock_timestamp());
  SELECT * INTO v_job FROM export_jobs j
   WHERE j.status IN ('pending', 'running') AND (j.lease_expires_at IS NULL OR j.lease_expires_at < clock_timestamp())
   ORDER BY j.requested_at, j.id
   LIMIT 1
   FOR UPDATE SKIP LOCKED;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  UPDATE export_jobs j
     SET status = 'running', started_at = coalesce(j.started_at, clock_timestamp()), worker_name = p_worker,
         attempts = j.attempts + 1, lease_expires_at = clock_timestamp() + make_interval(secs => p_lease_seconds)
   WHERE j.id = v_job.id;
  RETURN QUERY SELECT v_job.id, v_job.org_id, v_job.requested_by, v_job.format, v_job.deidentify, v_job.attempts + 1;
END
$$;

-- The job, locked, when p_worker still holds it (WF002 otherwise: another instance took it over).
CREATE FUNCTION export_job_held(p_job_id bigint, p_worker text) RETURNS export_jobs
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_job  export_jobs%ROWTYPE;
BEGIN
  SELECT * INTO v_job FROM export_jobs j WHERE j.id = p_job_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'WF001', MESSAGE = format('export job %s not found', p_job_id);
  END IF;
  IF v_job.status <> 'running' OR v_job.worker_name IS DISTINCT FROM p_worker OR v_job.lease_expires_at < clock_timestamp() THEN
    RAISE EXCEPTION USING ERRCODE = 'WF002', MESSAGE = format('export job %s is not leased to %s (any more)', p_job_id, p_worker);
  END IF;
  RETURN v_job;
END
$$;

-- As the tenant: the job's file is written; it is kept until p_expires_at.
CREATE FUNCTION finish_export_job(p_job_id bigint, p_worker text, p_file_name text, p_runs integer, p_steps integer,
  p_context integer, p_events integer, p_bytes bigint, p_expires_at timestamptz) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  PERFORM export_job_held(p_job_id, p_worker);
  UPDATE export_jobs
     SET status = 'completed', finished_at = clock_timestamp(), lease_expires_at = NULL, file_name = p_file_name,
         runs_written = p_runs, steps_written = p_steps, context_written = p_context, events_written = p_events,
         bytes = p_bytes, expires_at = p_expires_at, error = NULL
   WHERE id = p_job_id;
END
$$;

-- As the tenant: the job could not be written (p_error says why, without any value of the data).
CREATE FUNCTION fail_export_job(p_job_id bigint, p_worker text, p_error text) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  PERFORM export_job_held(p_job_id, p_worker);
  UPDATE export_jobs
     SET status = 'failed', finished_at = clock_timestamp(), lease_expires_at = NULL, error = left(p_error, 1000)
   WHERE id = p_job_id;
END
$$;

-- Gives a job's lease back (an instance that stops while writing it), so another instance starts it again at once.
CREATE FUNCTION release_export_job(p_job_id bigint, p_worker text) RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
  UPDATE export_jobs SET lease_expires_at = NULL WHERE id = p_job_id AND worker_name = p_worker AND status = 'running'
$$;

-- Completed jobs past their expiry, across organisations (SECURITY DEFINER: the sweep is the instance's, not a
-- tenant's), marked expired; the caller deletes their files before it commits.
CREATE FUNCTION expire_export_jobs(p_limit integer) RETURNS TABLE (job_id bigint, org_id uuid, file_name text)
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
  UPDATE export_jobs j SET status = 'expired'
   WHERE j.id IN (SELECT e.id FROM export_jobs e WHERE e.status = 'completed' AND e.expires_at < clock_timestamp()
                   ORDER BY e.expires_at LIMIT p_limit FOR UPDATE SKIP LOCKED)
  RETURNING j.id, j.org_id, j.file_name
$$;

GRANT EXECUTE ON FUNCTION phi_pseudonym_pads(), phi_pseudonym(text, bytea), phi_pseudonym_json(jsonb, bytea),
  phi_deidentify(jsonb, jsonb, bytea), phi_deidentify_text(text, text, bytea),
  request_export_job(bigint[], text, boolean, integer), claim_export_job(text, integer, integer),
  export_job_held(bigint, text), finish_export_job(bigint, text, text, integer, integer, integer, integer, bigint, timestamptz),
  fail_export_job(bigint, text, text), release_export_job(bigint, text), expire_export_jobs(integer)
  TO workflowgraph_app;
