#!/bin/bash
# Measures plain vs partitioned runs and steps (docs/scale-out.md, "Measured at 1M runs") on a benchmark database
# that setup.sql has prepared. Connection from the libpq environment (PGHOST, PGPORT, PGUSER, PGPASSWORD,
# PGDATABASE: the benchmark cluster's owner login and e.g. bench_1000000). PostgreSQL CPU is read from /proc for the
# cluster whose data directory is $PGDATA (the server must run on this machine).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
P="psql -X -v ON_ERROR_STOP=1"
org=$($P -Atc "SELECT org_id FROM part_exp.trace_plain GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
run=$($P -Atc "SELECT id FROM part_exp.trace_plain WHERE org_id = '$org' ORDER BY id DESC LIMIT 1 OFFSET 100")
echo "organisation $org, run $run"
for L in plain part; do
  cat > "$work/dash_$L.sql" <<SQL
SELECT json_agg(q.p0) FROM (SELECT json_build_object('id', t0.id, 'status', upper(t0.status::text), 'channel', upper(t0.channel::text),
  'startTime', t0.start_time, 'steps', (SELECT coalesce(json_agg(x.j), '[]'::json) FROM (SELECT json_build_object('id', t1.id,
  'status', upper(t1.status::text), 'durationMs', t1.duration_ms) AS j FROM part_exp.steps_$L t1 WHERE t1.trace_id = t0.id
  ORDER BY t1.step_number ASC LIMIT 100) x)) AS p0
FROM part_exp.trace_$L t0 WHERE t0.org_id = '$org' AND t0.status = 'completed' AND t0.channel = 'web'
ORDER BY t0.start_time DESC, t0.id DESC LIMIT 51) q;
SQL
  cat > "$work/detail_$L.sql" <<SQL
SELECT json_build_object('id', t0.id, 'status', t0.status, 'externalId', t0.external_id, 'steps', (SELECT coalesce(json_agg(x.j), '[]'::json)
  FROM (SELECT json_build_object('id', t1.id, 'input', t1.input_data, 'output', t1.output_data) AS j FROM part_exp.steps_$L t1
  WHERE t1.trace_id = t0.id ORDER BY t1.step_number) x))
FROM part_exp.trace_$L t0 WHERE t0.id = $run AND t0.org_id = '$org';
SQL
  cat > "$work/insert_$L.sql" <<SQL
BEGIN;
INSERT INTO part_exp.trace_$L (id, org_id, workflow_id, channel, status, start_time, created_at, updated_at, priority, attempt)
  SELECT 2000000 + (random() * 1000000)::int, org_id, workflow_id, channel, 'pending', now(), now(), now(), 0, 1
    FROM part_exp.trace_$L WHERE id = $run;
INSERT INTO part_exp.steps_$L (id, org_id, trace_id, node_id, step_number, status, retry_count, created_at, updated_at)
  SELECT 20000000 + (random() * 1000000)::int, org_id, $run, node_id, 99, 'pending', 0, now(), now()
    FROM part_exp.steps_$L WHERE trace_id = $run AND step_number = 1;
ROLLBACK;
SQL
done
for q in dash detail; do for L in plain part; do
  echo "== plan: $q, $L"
  $P -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) $(cat "$work/${q}_$L.sql")"
done; done
pm=$(head -1 "$PGDATA/postmaster.pid")
cpu() { local s=0; for p in $pm $(pgrep -P "$pm"); do read -r -a a < "/proc/$p/stat" 2>/dev/null || continue; s=$((s + a[13] + a[14] + a[15] + a[16])); done; echo $s; }
for round in 1 2 3; do for q in dash detail insert; do for L in plain part; do
  n=$([ $q = dash ] && echo 300 || echo 2000)
  before=$(cpu); pgbench -n -M prepared -c 1 -t "$n" -f "$work/${q}_$L.sql" >/dev/null; after=$(cpu)
  echo "round $round: $q $L $(echo "scale=3; ($after - $before) * 1000 / $(getconf CLK_TCK) / $n" | bc) ms of PostgreSQL CPU per transaction"
done; done; done
$P -f "$here/retention.sql"
