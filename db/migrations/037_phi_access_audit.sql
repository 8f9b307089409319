-- The audit of PHI access (HIPAA §164.312(b)): one row per response that showed unmasked PHI, append-only for the
-- service role (INSERT and SELECT, never UPDATE or DELETE), hash-chained per organisation so that a change made by
-- anyone else (an owner, a superuser) is detected by verify_phi_access_audit. Partitioned by year on accessed_at;
-- retention (cleanup_old_execution_data) never touches it: the records are kept six years on their own terms.
-- No PHI in a record: ids, names of fields, an operation's name and document hash.

CREATE TABLE phi_access_audit (
  org_id          uuid NOT NULL DEFAULT app_current_org_id(),
  seq             bigint NOT NULL,
  accessed_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  user_id         uuid,
  role            text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  operation_name  text CHECK (length(operation_name) <= 200),
  document_hash   text NOT NULL CHECK (document_hash ~ '^[0-9a-f]{64}$'),
  trace_ids       bigint[] NOT NULL DEFAULT '{}' CHECK (cardinality(trace_ids) <= 10000),
  fields          text[] NOT NULL CHECK (cardinality(fields) BETWEEN 1 AND 500),
  prev_hash       bytea NOT NULL,
  hash            bytea NOT NULL,
  PRIMARY KEY (org_id, seq, accessed_at)
) PARTITION BY RANGE (accessed_at);

CREATE TABLE phi_access_audit_default PARTITION OF phi_access_audit DEFAULT;
DO $$
DECLARE
  y int;
BEGIN
  FOR y IN 2024..2035 LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF phi_access_audit FOR VALUES FROM (%L) TO (%L)',
                   'phi_access_audit_y' || y, make_date(y, 1, 1)::timestamptz AT TIME ZONE 'UTC',
                   make_date(y + 1, 1, 1)::timestamptz AT TIME ZONE 'UTC');
  END LOOP;
END
$$;

-- What a record's hash covers, in a fixed text form: every column but the hash itself.
CREATE FUNCTION phi_access_audit_digest(r phi_access_audit) RETURNS bytea
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, public
AS $$
  SELECT sha256(r.prev_hash || convert_to(concat_ws('|', r.org_id, r.seq,
           to_char(r.accessed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), r.user_id, r.role,
           coalesce(r.operation_name, ''), r.document_hash, array_to_string(r.trace_ids, ','),
           array_to_string(r.fields, ',')), 'UTF8'))
$$;

-- Chains a new record to its organisation's last: records of one organisation are written one at a time (an
-- advisory lock per organisation), each numbered after the last and hashed over the previous hash.
CREATE FUNCTION tg_phi_access_audit__chain() RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_last phi_access_audit%ROWTYPE;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('phi_access_audit:' || NEW.org_id::text, 0));
  SELECT * INTO v_last FROM phi_access_audit WHERE org_id = NEW.org_id ORDER BY seq DESC LIMIT 1;
  NEW.seq := coalesce(v_last.seq, 0) + 1;
  NEW.prev_hash := coalesce(v_last.hash, '\x'::bytea);
  NEW.hash := phi_access_audit_digest(NEW);
  RETURN NEW;
END
$$;

CREATE TRIGGER tg_phi_access_audit__chain BEFORE INSERT ON phi_access_audit
  FOR EACH ROW EXECUTE FUNCTION tg_phi_access_audit__chain();

-- The first record of the organisation whose chain is broken (its hash does not cover its content, or it does not
-- follow the record before it, or a record is missing), or NULL when the whole chain holds.
CREATE FUNCTION verify_phi_access_audit(p_org_id uuid) RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, public
AS $$
  SELECT min(seq) FROM (
    SELECT a.seq, a.hash, phi_access_audit_digest(a) AS digest, a.prev_hash,
           lag(a.hash, 1, '\x'::bytea) OVER w AS previous, lag(a.seq, 1, 0::bigint) OVER w AS previous_seq
      FROM phi_access_audit a WHERE a.org_id = p_org_id
    WINDOW w AS (ORDER BY a.seq)
  ) c
  WHERE c.hash <> c.digest OR c.prev_hash <> c.previous OR c.seq <> c.previous_seq + 1
$$;

ALTER TABLE phi_access_audit ENABLE ROW LEVEL SECURITY;
CREATE POLICY phi_access_audit__tenant ON phi_access_audit TO workflowgraph_app
  USING (org_id = app_current_org_id()) WITH CHECK (org_id = app_current_org_id());
-- append-only: no UPDATE, no DELETE, no TRUNCATE for the service
GRANT SELECT, INSERT ON phi_access_audit TO workflowgraph_app;
GRANT EXECUTE ON FUNCTION phi_access_audit_digest(phi_access_audit), tg_phi_access_audit__chain(),
  verify_phi_access_audit(uuid) TO workflowgraph_app;
