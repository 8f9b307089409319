-- The head of each organisation's PHI access chain kept in one row: appending a record reads and moves its
-- organisation's head (one index lookup and one update under the head row's lock) instead of searching every yearly
-- partition of phi_access_audit for the last record (one index scan per partition, on every record). Measured with
-- pgbench on the server's CPU time: a one-record audit transaction 0.42–0.89 ms before, 0.25–0.33 ms after (this and
-- the inlinable digest below). The head's row lock serialises an organisation's appends as the advisory lock did.
-- The head also ends the chain: verify_phi_access_audit now reports records removed from the end (which a chain
-- alone cannot show) as the first one missing.

CREATE TABLE phi_access_audit_heads (
  org_id  uuid PRIMARY KEY,
  seq     bigint NOT NULL CHECK (seq >= 0),
  hash    bytea NOT NULL
);

-- Only the chaining trigger (SECURITY DEFINER, below) moves heads; the service role may read its own organisation's
-- (verify_phi_access_audit runs as the caller), never change one.
ALTER TABLE phi_access_audit_heads ENABLE ROW LEVEL SECURITY;
CREATE POLICY phi_access_audit_heads__tenant ON phi_access_audit_heads TO workflowgraph_app
  USING (org_id = app_current_org_id());
GRANT SELECT ON phi_access_audit_heads TO workflowgraph_app;

INSERT INTO phi_access_audit_heads (org_id, seq, hash)
SELECT DISTINCT ON (org_id) org_id, seq, hash FROM phi_access_audit ORDER BY org_id, seq DESC;

-- What a record's hash covers (037's definition, unchanged) as an inlinable function: without SET search_path (names
-- schema-qualified instead, as in 040) the planner inlines it into the trigger's assignment and into the check below;
-- with it, every call paid a configuration change — a third of a record's cost on the database.
ALTER FUNCTION phi_access_audit_digest(phi_access_audit) RESET ALL;
CREATE OR REPLACE FUNCTION phi_access_audit_digest(r phi_access_audit) RETURNS bytea
LANGUAGE sql STABLE
AS $$
  SELECT pg_catalog.sha256(r.prev_hash || pg_catalog.convert_to(pg_catalog.concat_ws('|', r.org_id, r.seq,
           pg_catalog.to_char(r.accessed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), r.user_id, r.role,
           coalesce(r.operation_name, ''), r.document_hash, pg_catalog.array_to_string(r.trace_ids, ','),
           pg_catalog.array_to_string(r.fields, ',')), 'UTF8'))
$$;

-- Chains a new record to its organisation's head: the record takes the next number and hashes over the head's hash,
-- and becomes the head. Runs as the owner only to reach the heads; the record itself is still checked by the
-- service role's policy (WITH CHECK on org_id) after this trigger, and a refused record rolls the head back with it.
CREATE OR REPLACE FUNCTION tg_phi_access_audit__chain() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_seq   bigint;
  v_hash  bytea;
BEGIN
  SELECT h.seq, h.hash INTO v_seq, v_hash FROM phi_access_audit_heads h WHERE h.org_id = NEW.org_id FOR UPDATE;
  IF NOT FOUND THEN
    -- the organisation's first record: create its head (a racing first append waits on the key, then finds it)
    INSERT INTO phi_access_audit_heads (org_id, seq, hash) VALUES (NEW.org_id, 0, '\x'::bytea) ON CONFLICT (org_id) DO NOTHING;
    SELECT h.seq, h.hash INTO v_seq, v_hash FROM phi_access_audit_heads h WHERE h.org_id = NEW.org_id FOR UPDATE;
  END IF;
  NEW.seq := v_seq + 1;
  NEW.prev_hash := v_hash;
  NEW.hash := phi_access_audit_digest(NEW);
  UPDATE phi_access_audit_heads SET seq = NEW.seq, hash = NEW.hash WHERE org_id = NEW.org_id;
  RETURN NEW;
END
$$;

REVOKE ALL ON FUNCTION tg_phi_access_audit__chain() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tg_phi_access_audit__chain() TO workflowgraph_app;

-- The first record of the organisation whose chain is broken (its hash does not cover its content, or it does not
-- follow the record before it, or a record is missing — also at the end, measured against the head), or NULL when
-- the whole chain holds.
CREATE OR REPLACE FUNCTION verify_phi_access_audit(p_org_id uuid) RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, public
AS $$
  SELECT min(broken) FROM (
    SELECT c.seq AS broken FROM (
      SELECT a.seq, a.hash, phi_access_audit_digest(a) AS digest, a.prev_hash,
             lag(a.hash, 1, '\x'::bytea) OVER w AS previous, lag(a.seq, 1, 0::bigint) OVER w AS previous_seq
        FROM phi_access_audit a WHERE a.org_id = p_org_id
      WINDOW w AS (ORDER BY a.seq)
    ) c
    WHERE c.hash <> c.digest OR c.prev_hash <> c.previous OR c.seq <> c.previous_seq + 1
    UNION ALL
    -- the end of the chain is the head
    -- (removed from the end: the first one missing; records past the head: the first of them; the last record's
    -- hash differs from the head's: the last record)
    SELECT CASE WHEN coalesce(last.seq, 0) < h.seq THEN coalesce(last.seq, 0) + 1
                WHEN last.seq > h.seq THEN h.seq + 1
                ELSE h.seq END
      FROM phi_access_audit_heads h
      LEFT JOIN LATERAL (SELECT a.seq, a.hash FROM phi_access_audit a WHERE a.org_id = p_org_id
                          ORDER BY a.seq DESC LIMIT 1) last ON true
     WHERE h.org_id = p_org_id AND (last.seq IS DISTINCT FROM h.seq OR last.hash IS DISTINCT FROM h.hash)
  ) b
$$;
