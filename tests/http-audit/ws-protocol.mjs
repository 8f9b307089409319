// The graphql-ws client (the reference implementation of graphql-transport-ws) against a listening server: the
// handshake, a refused token, single results, a live subscription fed by mutations over HTTP, the client's complete,
// and keep-alive pings both ways. Prints one JSON object on stdout: { "results": [{ name, status, reason? }] };
// the xunit test GraphQLWsClientTests judges it.
//   node ws-protocol.mjs http://127.0.0.1:5000/graphql 'Bearer <operator jwt>' <workflow uuid> <node id>
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [httpUrl, authorization, workflowId, nodeId] = process.argv.slice(2);
if (!httpUrl || !authorization || !workflowId || !nodeId) {
  console.error('usage: node ws-protocol.mjs <http endpoint> <authorization> <workflow id> <node id>');
  process.exit(2);
}
const url = httpUrl.replace(/^http/, 'ws');
const TIMEOUT_MS = 10_000;

function client(options = {}) {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: authorization },
    retryAttempts: 0,
    lazy: true,
    ...options,
  });
}

function within(promise, what, ms = TIMEOUT_MS) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Collects what a subscribe sink receives; waitFor resolves once `count` results arrived. */
function collector() {
  const results = [];
  let error;
  let completed = false;
  const waiters = [];
  const wake = () => { for (const waiter of [...waiters]) waiter(); };
  return {
    results,
    get error() { return error; },
    get completed() { return completed; },
    sink: {
      next: (value) => { results.push(value); wake(); },
      error: (e) => { error = e; wake(); },
      complete: () => { completed = true; wake(); },
    },
    waitFor(predicate, what) {
      return within(new Promise((resolve, reject) => {
        const check = () => {
          if (predicate()) { waiters.splice(waiters.indexOf(check), 1); resolve(); }
          else if (error) { waiters.splice(waiters.indexOf(check), 1); reject(new Error(`${what}: got error ${describe(error)}`)); }
        };
        waiters.push(check);
        check();
      }), what);
    },
  };
}

function describe(error) {
  if (error && typeof error === 'object' && 'code' in error && 'reason' in error) return `close ${error.code} ${error.reason}`;
  if (Array.isArray(error)) return JSON.stringify(error);
  return String(error?.message ?? error);
}

async function http(query, variables) {
  const response = await fetch(httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(`HTTP ${query.slice(0, 40)}… failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function startRun() {
  const data = await http(
    'mutation ($w: ID!) { startWorkflowExecution(input: { workflowId: $w, channel: WEB }) { trace { id } errors { __typename } } }',
    { w: workflowId });
  return data.startWorkflowExecution.trace.id;
}

const setContext = (traceId, key) => http(
  'mutation ($t: ID!, $k: String!) { setWorkflowContext(input: { traceId: $t, key: $k, value: 1 }) { errors { __typename } } }',
  { t: traceId, k: key });

const startStep = (traceId, stepNumber) => http(
  'mutation ($t: ID!, $n: ID!, $s: Int!) { startWorkflowStep(input: { traceId: $t, nodeId: $n, stepNumber: $s, inputData: { member_id: "M1" } }) { step { id } errors { __typename } } }',
  { t: traceId, n: nodeId, s: stepNumber });

const eventsOf = 'subscription ($t: ID!, $after: String) { workflowEvents(traceId: $t, after: $after) { id rowId eventType cursor } }';

const checks = {
  async 'connection_init is acknowledged'() {
    let acknowledged;
    const c = client({ lazy: false, on: { connected: (_socket, payload) => { acknowledged = payload ?? {}; } } });
    try {
      await within(new Promise((resolve, reject) => {
        c.on('connected', resolve);
        c.on('closed', (event) => reject(new Error(`closed: ${describe(event)}`)));
      }), 'connection_ack');
      if (!acknowledged) throw new Error('the connected event came without an ack');
    } finally {
      await c.dispose();
    }
  },

  async 'a refused token closes with 4403 and the client reports it'() {
    const c = client({ connectionParams: { Authorization: 'Bearer not-a-jwt' } });
    const seen = collector();
    c.subscribe({ query: '{ traces { totalCount } }' }, seen.sink);
    try {
      await seen.waitFor(() => seen.error, 'the close').catch(() => {});
      if (!seen.error || seen.error.code !== 4403) throw new Error(`expected close 4403, got ${describe(seen.error)}`);
      if (!String(seen.error.reason).startsWith('Forbidden')) throw new Error(`unexpected reason ${seen.error.reason}`);
    } finally {
      await c.dispose();
    }
  },

  async 'a query answers next then complete'() {
    const c = client();
    try {
      const seen = collector();
      c.subscribe({ query: 'query ($first: Int) { traces(first: $first) { nodes { id } } }', variables: { first: 2 } }, seen.sink);
      await seen.waitFor(() => seen.completed, 'complete');
      if (seen.results.length !== 1) throw new Error(`expected one result, got ${seen.results.length}`);
      const nodes = seen.results[0].data?.traces?.nodes;
      if (!Array.isArray(nodes)) throw new Error(`unexpected result ${JSON.stringify(seen.results[0])}`);
    } finally {
      await c.dispose();
    }
  },

  async 'a validation error reaches the sink as GraphQL errors'() {
    const c = client();
    try {
      const seen = collector();
      c.subscribe({ query: '{ traces { noSuchField } }' }, seen.sink);
      await seen.waitFor(() => seen.error, 'the error').catch(() => {});
      if (!Array.isArray(seen.error) || !seen.error[0]?.message) throw new Error(`expected GraphQL errors, got ${describe(seen.error)}`);
    } finally {
      await c.dispose();
    }
  },

  async 'events of mutations over HTTP arrive in order on workflowEvents'() {
    const traceId = await startRun();
    const { trace } = await http('query ($id: ID!) { trace(id: $id) { events(first: 1) { cursor } } }', { id: traceId });
    const c = client();
    try {
      const seen = collector();
      c.subscribe({ query: eventsOf, variables: { t: traceId, after: trace.events[0].cursor } }, seen.sink);
      await startStep(traceId, 1);
      await setContext(traceId, 'payer');
      await seen.waitFor(() => seen.results.length >= 2, 'two events');
      const types = seen.results.map((r) => r.data.workflowEvents.eventType);
      if (types.join() !== 'step_started,context_set') throw new Error(`got ${types.join()}`);
      const ids = seen.results.map((r) => Number(r.data.workflowEvents.rowId));
      if (!(ids[0] < ids[1])) throw new Error(`out of order: ${ids.join()}`);
    } finally {
      await c.dispose();
    }
  },

  async 'a live subscription (no cursor) receives the next mutation'() {
    const traceId = await startRun();
    const c = client();
    try {
      const seen = collector();
      c.subscribe({ query: eventsOf, variables: { t: traceId } }, seen.sink);
      // live only: the subscription joins the stream asynchronously, so keep writing until one arrives
      let written = 0;
      const writing = (async () => {
        while (seen.results.length === 0 && !seen.error && written < 40) { await setContext(traceId, `k${written++}`); await delay(100); }
      })();
      await seen.waitFor(() => seen.results.length >= 1, 'a live event');
      await writing;
      if (seen.results[0].data.workflowEvents.eventType !== 'context_set') throw new Error(JSON.stringify(seen.results[0]));
    } finally {
      await c.dispose();
    }
  },

  async 'after the client completes, the server sends nothing more for that id'() {
    const traceId = await startRun();
    const { trace } = await http('query ($id: ID!) { trace(id: $id) { events(first: 1) { cursor } } }', { id: traceId });
    const after = [];
    let completedAt = null;
    const c = client({
      on: {
        message: (message) => { if (completedAt !== null && message.id !== undefined) after.push(message); },
      },
    });
    try {
      const seen = collector();
      const unsubscribe = c.subscribe({ query: eventsOf, variables: { t: traceId, after: trace.events[0].cursor } }, seen.sink);
      await setContext(traceId, 'one');
      await seen.waitFor(() => seen.results.length >= 1, 'the first event');
      unsubscribe(); // sends complete
      completedAt = Date.now();
      await delay(100);
      await setContext(traceId, 'two');
      await delay(600);
      if (after.length) throw new Error(`received after complete: ${JSON.stringify(after)}`);
      // the socket is still usable
      const again = collector();
      c.subscribe({ query: '{ traces(first: 1) { nodes { id } } }' }, again.sink);
      await again.waitFor(() => again.completed, 'a query on the same socket');
    } finally {
      await c.dispose();
    }
  },

  async 'the client keepAlive pings are answered with pongs'() {
    let pongs = 0;
    const c = client({ keepAlive: 200, on: { pong: (received) => { if (received) pongs++; } } });
    try {
      const seen = collector();
      c.subscribe({ query: eventsOf, variables: { t: Buffer.from('WorkflowTrace:1').toString('base64url') } }, seen.sink); // keeps the socket open
      await within((async () => { while (pongs < 2) await delay(50); })(), 'two pongs');
    } finally {
      await c.dispose();
    }
  },

  async 'the server pings and the client answers'() {
    let pings = 0;
    const c = client({ on: { ping: (received) => { if (received) pings++; } } });
    try {
      const seen = collector();
      c.subscribe({ query: eventsOf, variables: { t: Buffer.from('WorkflowTrace:1').toString('base64url') } }, seen.sink);
      await within((async () => { while (pings < 1) await delay(50); })(), 'a server ping', 5_000);
      if (seen.error) throw new Error(describe(seen.error));
    } finally {
      await c.dispose();
    }
  },
};

const results = [];
for (const [name, check] of Object.entries(checks)) {
  try {
    await check();
    results.push({ name, status: 'ok' });
  } catch (error) {
    results.push({ name, status: 'failed', reason: describe(error) });
  }
}
process.stdout.write(JSON.stringify({ results }) + '\n');
process.exit(0);
