-- "Events since a snapshot position" has one home: the service's event log reader
-- (src/WorkflowGraph/Subscriptions/EventLogReader.cs), whose statement is what subscriptions run. It sends the
-- position's xmax and running transaction ids as constants, so that the planner sees small conditions on
-- ix_workflow_events__org_tx; workflow_events_since (015) could only bound its scan by the position's xmin and test
-- each row's visibility. The function restated the reader's rule for tests alone, and two statements of one rule
-- drift apart, so it goes. The index of 015 stays: the reader uses it.

DROP FUNCTION workflow_events_since(pg_snapshot, pg_snapshot, bigint, bigint, uuid, text[]);
