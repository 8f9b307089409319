-- The global id of every run and step (the API's `id`: unpadded base64url of 'WorkflowTrace:<id>' or
-- 'WorkflowStep:<id>', src/WorkflowGraph/Querying/Model/GlobalId.cs) kept in a stored generated column, so a read copies
-- it instead of encoding it. A dashboard page writes some 550 of them; encoding them cost PostgreSQL 0.19 ms of its
-- 1.51 ms per page (pgbench, one client, 100k-run data set: 1.51 ms computed, 1.31–1.33 ms read). The value is paid
-- once, when the row is written. The expression is Base64Url.EncodeSql's, with decode(…, 'escape') for convert_to
-- (which is not immutable; the text is ASCII letters, ':' and digits, so no backslash is ever read as an escape).
-- Adding a stored column rewrites both tables under an exclusive lock: on a large deployment run it in a maintenance
-- window. Retention restores leave generated columns out (ArchiveRestore), and the database fills them again.

ALTER TABLE workflow_trace ADD COLUMN global_id text NOT NULL GENERATED ALWAYS AS (
  rtrim(replace(replace(replace(encode(decode('WorkflowTrace:' || id::text, 'escape'), 'base64'), E'\n', ''), '+', '-'),
                '/', '_'), '=')) STORED;

ALTER TABLE workflow_steps ADD COLUMN global_id text NOT NULL GENERATED ALWAYS AS (
  rtrim(replace(replace(replace(encode(decode('WorkflowStep:' || id::text, 'escape'), 'base64'), E'\n', ''), '+', '-'),
                '/', '_'), '=')) STORED;
