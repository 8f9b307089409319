-- Time partitioning experiment (docs/scale-out.md, "Measured at 1M runs"): copies of a benchmark data set's runs and
-- steps in schema part_exp, plain and partitioned by month of id range, ids renumbered in start_time order
-- (production's identity values grow with time). Run as the owner on e.g. bench_1000000, then run.sh; afterwards
-- DROP SCHEMA part_exp CASCADE (the copies take ~8 GB at 1M runs).
\timing on
\set ON_ERROR_STOP on
DROP SCHEMA IF EXISTS part_exp CASCADE;
CREATE SCHEMA part_exp;
CREATE TABLE part_exp.trace_map AS
  SELECT id AS old_id, row_number() OVER (ORDER BY start_time, id) AS new_id, start_time FROM workflow_trace;
CREATE UNIQUE INDEX ON part_exp.trace_map (old_id);
CREATE TABLE part_exp.months AS
  SELECT date_trunc('month', start_time) AS month, min(new_id) AS first_id, max(new_id) AS last_id, count(*) AS runs
    FROM part_exp.trace_map GROUP BY 1 ORDER BY 1;
SELECT * FROM part_exp.months;
DO $$
DECLARE cols text;
BEGIN
  SELECT string_agg(CASE WHEN attname = 'id' THEN 'm.new_id AS id' ELSE 't.' || quote_ident(attname) END, ', ' ORDER BY attnum)
    INTO cols FROM pg_attribute WHERE attrelid = 'workflow_trace'::regclass AND attnum > 0 AND NOT attisdropped;
  EXECUTE 'CREATE TABLE part_exp.trace_src AS SELECT ' || cols || ' FROM workflow_trace t JOIN part_exp.trace_map m ON m.old_id = t.id';
  SELECT string_agg(CASE WHEN attname = 'trace_id' THEN 'm.new_id AS trace_id'
                         WHEN attname = 'id' THEN 'row_number() OVER (ORDER BY m.new_id, s.step_number) AS id'
                         ELSE 's.' || quote_ident(attname) END, ', ' ORDER BY attnum)
    INTO cols FROM pg_attribute WHERE attrelid = 'workflow_steps'::regclass AND attnum > 0 AND NOT attisdropped;
  EXECUTE 'CREATE TABLE part_exp.steps_src AS SELECT ' || cols || ' FROM workflow_steps s JOIN part_exp.trace_map m ON m.old_id = s.trace_id';
END $$;

CREATE TABLE part_exp.trace_plain (LIKE part_exp.trace_src);
CREATE TABLE part_exp.steps_plain (LIKE part_exp.steps_src);
CREATE TABLE part_exp.trace_part (LIKE part_exp.trace_src) PARTITION BY RANGE (id);
CREATE TABLE part_exp.steps_part (LIKE part_exp.steps_src) PARTITION BY RANGE (trace_id);
DO $$
DECLARE r record; i int := 0;
BEGIN
  FOR r IN SELECT month, first_id, lead(first_id) OVER (ORDER BY month) AS next_id FROM part_exp.months ORDER BY month LOOP
    EXECUTE format('CREATE TABLE part_exp.trace_p%s PARTITION OF part_exp.trace_part FOR VALUES FROM (%s) TO (%s)',
                   to_char(r.month, 'YYYYMM'), r.first_id, coalesce(r.next_id::text, 'MAXVALUE'));
    EXECUTE format('CREATE TABLE part_exp.steps_p%s PARTITION OF part_exp.steps_part FOR VALUES FROM (%s) TO (%s)',
                   to_char(r.month, 'YYYYMM'), r.first_id, coalesce(r.next_id::text, 'MAXVALUE'));
  END LOOP;
END $$;
-- rows in insertion (id) order, as production writes them
INSERT INTO part_exp.trace_plain SELECT * FROM part_exp.trace_src ORDER BY id;
INSERT INTO part_exp.trace_part SELECT * FROM part_exp.trace_src ORDER BY id;
INSERT INTO part_exp.steps_plain SELECT * FROM part_exp.steps_src ORDER BY id;
INSERT INTO part_exp.steps_part SELECT * FROM part_exp.steps_src ORDER BY id;
DROP TABLE part_exp.trace_src, part_exp.steps_src;

-- the production indexes the measured statements use (a partitioned table's unique keys must contain its key)
ALTER TABLE part_exp.trace_plain ADD PRIMARY KEY (id), ADD UNIQUE (id, org_id);
ALTER TABLE part_exp.trace_part ADD PRIMARY KEY (id), ADD UNIQUE (id, org_id);
CREATE INDEX ON part_exp.trace_plain (org_id, status, channel, start_time DESC, id DESC);
CREATE INDEX ON part_exp.trace_part (org_id, status, channel, start_time DESC, id DESC);
CREATE INDEX ON part_exp.trace_plain (org_id, start_time DESC, id DESC);
CREATE INDEX ON part_exp.trace_part (org_id, start_time DESC, id DESC);
ALTER TABLE part_exp.steps_plain ADD PRIMARY KEY (id), ADD UNIQUE (trace_id, step_number);
ALTER TABLE part_exp.steps_part ADD PRIMARY KEY (id, trace_id), ADD UNIQUE (trace_id, step_number);
CREATE INDEX ON part_exp.steps_plain (org_id, node_id, start_time DESC) INCLUDE (id, status, duration_ms, retry_count);
CREATE INDEX ON part_exp.steps_part (org_id, node_id, start_time DESC) INCLUDE (id, status, duration_ms, retry_count);
ALTER TABLE part_exp.steps_plain ADD FOREIGN KEY (trace_id, org_id) REFERENCES part_exp.trace_plain (id, org_id) ON DELETE CASCADE;
ALTER TABLE part_exp.steps_part ADD FOREIGN KEY (trace_id, org_id) REFERENCES part_exp.trace_part (id, org_id) ON DELETE CASCADE;
VACUUM ANALYZE part_exp.trace_plain, part_exp.trace_part, part_exp.steps_plain, part_exp.steps_part;
SELECT c.relname, pg_size_pretty(pg_total_relation_size(c.oid)) FROM pg_class c
 WHERE c.relnamespace = 'part_exp'::regnamespace AND c.relkind IN ('r', 'p') AND c.relname ~ '_(plain|part)$';
SELECT 'trace_part', pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits WHERE inhparent = 'part_exp.trace_part'::regclass
UNION ALL SELECT 'steps_part', pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits WHERE inhparent = 'part_exp.steps_part'::regclass;
