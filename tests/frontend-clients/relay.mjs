// relay-compiler compiles relay/fragments.js (refetchable fragments on runs and steps, a pagination fragment over
// traces) against the served schema, then relay-runtime with its default store fetches and normalises the results.
// Prints {"results":[{name,status,reason}]} and exits 0; the xunit test (Http/FrontendClientTests) decides.
//   node relay.mjs http://127.0.0.1:5000 "Bearer <jwt>"
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import relay from 'relay-runtime';

const [base, authorization] = process.argv.slice(2);
const { Environment, Network, RecordSource, Store, fetchQuery } = relay;
const results = [];
const check = async (name, body) => {
  try {
    await body();
    results.push({ name, status: 'ok' });
  } catch (error) {
    results.push({ name, status: 'failed', reason: String(error?.stack ?? error) });
  }
};

await check('relay-compiler compiles refetchable and pagination fragments on runs and steps', async () => {
  const schema = await (await fetch(base + '/graphql?sdl')).text();
  writeFileSync('schema.graphql', schema);
  mkdirSync('__generated__', { recursive: true });
  execFileSync('node_modules/.bin/relay-compiler', [], { stdio: 'pipe', timeout: 60_000 });
});

await check('relay-runtime normalises runs and steps with its default store', async () => {
  const warnings = [];
  const originalError = console.error;
  console.error = (...args) => warnings.push(args.join(' '));
  try {
    // fragments mask what a query returns; the raw responses say which ids came over the wire
    const responses = {};
    const environment = new Environment({
      network: Network.create(async (params, variables) => {
        const response = await fetch(base + '/graphql', { method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: authorization },
          body: JSON.stringify({ query: params.text, variables }) });
        return (responses[params.name] = await response.json());
      }),
      store: new Store(new RecordSource()),
    });
    const runs = (await import('./__generated__/fragmentsRunsQuery.graphql.js')).default;
    const refetchRun = (await import('./__generated__/fragmentsRunRefetchQuery.graphql.js')).default;
    const paginate = (await import('./__generated__/fragmentsRunsPaginationQuery.graphql.js')).default;
    await fetchQuery(environment, runs, {}).toPromise();
    const page = responses.fragmentsRunsQuery.data;
    const edges = page.traces.edges;
    if (edges.length !== 5) throw new Error(`first page: ${JSON.stringify(page)}`);
    await fetchQuery(environment, paginate, { first: 5, after: page.traces.pageInfo.endCursor }).toPromise();
    const next = responses.fragmentsRunsPaginationQuery.data;
    const runId = edges[0].node.id;
    await fetchQuery(environment, refetchRun, { id: runId }).toPromise();

    const records = environment.getStore().getSource().toJSON();
    const typeOf = (id) => records[id]?.__typename;
    if (typeOf(runId) !== 'WorkflowTrace') throw new Error(`run ${runId} is stored as ${typeOf(runId)}`);
    const stepIds = Object.keys(records).filter((id) => records[id].__typename === 'WorkflowStep');
    if (stepIds.length === 0) throw new Error('no steps were stored');
    const ids = [...edges, ...next.traces.edges].map((e) => e.node.id);
    if (new Set(ids).size !== 10) throw new Error(`pages overlap: ${ids.join()}`);
    if (warnings.length > 0) throw new Error(`relay warned: ${warnings.join('\n')}`);
  } finally {
    console.error = originalError;
  }
});

process.stdout.write(JSON.stringify({ results }) + '\n');
process.exit(0);
