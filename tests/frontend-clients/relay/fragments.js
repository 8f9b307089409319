// Relay documents over runs and steps, compiled by relay-compiler (relay.mjs runs it) into relay/__generated__.
import { graphql } from 'relay-runtime';

export const RunFragment = graphql`
  fragment fragments_run on WorkflowTrace @refetchable(queryName: "fragmentsRunRefetchQuery") {
    id
    rowId
    status
    steps(first: 10) { id status ...fragments_step }
  }
`;

export const StepFragment = graphql`
  fragment fragments_step on WorkflowStep @refetchable(queryName: "fragmentsStepRefetchQuery") {
    id
    stepNumber
    status
    trace { id status }
  }
`;

export const RunsFragment = graphql`
  fragment fragments_runs on Query
    @refetchable(queryName: "fragmentsRunsPaginationQuery")
    @argumentDefinitions(first: { type: "Int", defaultValue: 5 }, after: { type: "String" }) {
    traces(first: $first, after: $after) @connection(key: "fragments_traces") {
      edges { node { id ...fragments_run } }
    }
  }
`;

export const RunsQuery = graphql`
  query fragmentsRunsQuery {
    ...fragments_runs
  }
`;
