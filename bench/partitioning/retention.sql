\timing on
-- the oldest month: DELETE (as cleanup_old_execution_data does today) vs dropping its partitions; each rolled back
SELECT to_char(month, 'YYYYMM') AS m, first_id, last_id, runs FROM part_exp.months ORDER BY month LIMIT 1 \gset
\echo oldest month :m runs :runs
BEGIN;
SELECT pg_current_wal_insert_lsn() AS l0 \gset
DELETE FROM part_exp.trace_plain WHERE id BETWEEN :first_id AND :last_id;
SELECT pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_insert_lsn(), :'l0')) AS wal_delete;
ROLLBACK;
BEGIN;
SELECT pg_current_wal_insert_lsn() AS l0 \gset
ALTER TABLE part_exp.steps_part DETACH PARTITION part_exp.steps_p:m;
DROP TABLE part_exp.steps_p:m;
ALTER TABLE part_exp.trace_part DETACH PARTITION part_exp.trace_p:m;
DROP TABLE part_exp.trace_p:m;
SELECT pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_insert_lsn(), :'l0')) AS wal_drop;
ROLLBACK;
