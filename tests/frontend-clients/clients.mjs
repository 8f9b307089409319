// Front-end clients against a running service, as a front-end team would set them up (README "From a front-end").
// Prints {"results":[{name,status,reason}]} and exits 0; the xunit test decides.
//   node clients.mjs http://127.0.0.1:5000/graphql "Bearer <jwt>" <global id of an open run>
import { createHash } from 'node:crypto';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { createPersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { Client as UrqlClient, fetchExchange } from '@urql/core';
import { createClient } from 'graphql-ws';
import { buildClientSchema, getIntrospectionQuery } from 'graphql';
import WebSocket from 'ws';

const [url, authorization, runId] = process.argv.slice(2);
if (!url || !authorization || !runId) {
  process.stderr.write('usage: node clients.mjs <http url> <authorization> <run id>\n');
  process.exit(2);
}
const headers = { Authorization: authorization };
const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const within = (promise, what, ms = 10_000) => Promise.race([promise,
  new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms))]);

// every request the clients send, to check how they went over the wire
const sent = [];
const recordingFetch = (input, init = {}) => {
  const target = typeof input === 'string' ? input : input.url;
  sent.push({ method: (init.method ?? 'GET').toUpperCase(), url: target, body: init.body ?? null });
  return fetch(input, init);
};

const possibleTypes = {
  Node: ['WorkflowTrace', 'WorkflowStep', 'WorkflowEvent', 'Workflow', 'WorkflowNode'],
  Error: ['NotFoundError', 'InvalidStateError', 'ValidationError', 'DuplicateError'],
};
const apollo = (link) => new ApolloClient({
  link,
  cache: new InMemoryCache({ possibleTypes, typePolicies: { Query: { fields: { traces: relayStylePagination(['where']) } } } }),
});

const Runs = gql`
  query Runs($first: Int!, $after: String) {
    traces(first: $first, after: $after) { edges { cursor node { id rowId status steps { id status } } } pageInfo { endCursor hasNextPage } }
  }`;

const checks = {
  async 'Apollo Client pages a connection with relayStylePagination and normalises runs by global id'() {
    const client = apollo(new HttpLink({ uri: url, headers, fetch: recordingFetch }));
    const watched = client.watchQuery({ query: Runs, variables: { first: 2 } });
    let subscription;
    const first = await new Promise((resolve, reject) => {
      subscription = watched.subscribe({ next: (r) => { if (!r.loading && r.data) resolve(r); }, error: reject });
    });
    const page = first.data.traces;
    if (page.edges.length !== 2 || !page.pageInfo.hasNextPage) throw new Error(`first page: ${JSON.stringify(page)}`);
    await watched.fetchMore({ variables: { after: page.pageInfo.endCursor } });
    const merged = client.readQuery({ query: Runs, variables: { first: 2 } }).traces.edges;
    const ids = merged.map((e) => e.node.id);
    if (ids.length !== 4 || new Set(ids).size !== 4) throw new Error(`merged pages: ${ids.join()}`);
    subscription.unsubscribe();
    const key = client.cache.identify(merged[0].node);
    if (key !== `WorkflowTrace:${ids[0]}`) throw new Error(`cache key ${key}`);
  },

  async 'Apollo automatic persisted queries: not found, registered, then by hash over GET'() {
    sent.length = 0;
    const query = gql`query PersistedRuns { traces(first: 1) { totalCount } } # ${Date.now()}`;
    const client = apollo(createPersistedQueryLink({ sha256, useGETForHashedQueries: true })
      .concat(new HttpLink({ uri: url, headers, fetch: recordingFetch })));
    const first = await client.query({ query, fetchPolicy: 'network-only' });
    const again = await client.query({ query, fetchPolicy: 'network-only' });
    if (!(first.data.traces.totalCount > 0) || again.data.traces.totalCount !== first.data.traces.totalCount)
      throw new Error(`results ${JSON.stringify([first.data, again.data])}`);
    const shape = sent.map((r) => `${r.method}${r.body && JSON.parse(r.body).query ? '+query' : ''}`).join(',');
    if (shape !== 'GET,POST+query,GET') throw new Error(`requests went ${shape}`);
    if (sent[2].url.includes('query=')) throw new Error('the hashed GET carried the document');
  },

  async 'Apollo Client receives a subscription over graphql-ws'() {
    const ws = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: headers, lazy: false });
    const client = apollo(new GraphQLWsLink(ws));
    const http = apollo(new HttpLink({ uri: url, headers }));
    try {
      const key = `apollo-${Date.now()}`;
      const event = new Promise((resolve, reject) => {
        const subscription = client.subscribe({
          query: gql`subscription ($t: ID!) { workflowEvents(traceId: $t) { id traceId eventType eventData } }`,
          variables: { t: runId },
        }).subscribe({ next: (r) => { subscription.unsubscribe(); resolve(r); }, error: reject });
      });
      await new Promise((resolve) => setTimeout(resolve, 500)); // live only: let the subscription join
      const set = await http.mutate({
        mutation: gql`mutation ($t: ID!, $k: String!) { setWorkflowContext(input: { traceId: $t, key: $k, value: 1 }) {
          trace { id } entry { id key } errors { __typename ... on Error { message } } } }`,
        variables: { t: runId, k: key },
      });
      if (set.data.setWorkflowContext.errors) throw new Error(JSON.stringify(set.data.setWorkflowContext.errors));
      const received = await within(event, 'the subscription event');
      const e = received.data.workflowEvents;
      if (e.traceId !== runId || e.eventType !== 'context_set') throw new Error(`event ${JSON.stringify(e)}`);
    } finally {
      await ws.dispose();
    }
  },

  async 'graphql-js introspects with every option of the current specification and builds the schema'() {
    const query = getIntrospectionQuery({
      descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true,
    });
    const response = await (await fetch(url, {
      method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify({ query }),
    })).json();
    if (response.errors) throw new Error(JSON.stringify(response.errors));
    const schema = buildClientSchema(response.data);
    const uuid = schema.getType('UUID');
    if (uuid?.specifiedByURL !== 'https://www.rfc-editor.org/rfc/rfc9562') throw new Error(`UUID specifiedByURL ${uuid?.specifiedByURL}`);
    if (schema.getType('Long')?.specifiedByURL != null) throw new Error('Long names no specification');
    if (!schema.getDirective('specifiedBy')) throw new Error('no @specifiedBy among the directives');
    const where = schema.getType('WorkflowTraceFilterInput');
    if (!where?.getFields().rowId) throw new Error('WorkflowTraceFilterInput without rowId');
  },

  async 'urql runs a query over GET'() {
    sent.length = 0;
    const client = new UrqlClient({ url, exchanges: [fetchExchange], preferGetMethod: true, fetch: recordingFetch, fetchOptions: { headers } });
    const result = await client.query('query ($id: ID!) { node(id: $id) { __typename id } }', { id: runId }).toPromise();
    if (result.error) throw result.error;
    if (result.data.node?.id !== runId || result.data.node.__typename !== 'WorkflowTrace') throw new Error(JSON.stringify(result.data));
    if (sent.length !== 1 || sent[0].method !== 'GET') throw new Error(`requests ${JSON.stringify(sent.map((r) => r.method))}`);
  },
};

const results = [];
for (const [name, check] of Object.entries(checks)) {
  try {
    await within(check(), name, 20_000);
    results.push({ name, status: 'ok' });
  } catch (error) {
    results.push({ name, status: 'failed', reason: String(error?.stack ?? error) });
  }
}
process.stdout.write(JSON.stringify({ results }) + '\n');
process.exit(0);
