// A front-end page on another loopback origin calls the service from headless Chromium: from the allowed origin a
// query over fetch and a subscription over the WebSocket work; from an origin not on the list both are refused.
// Prints {"allowed": {...}, "refused": {...}} and exits 0; the xunit test (Http/BrowserCorsTests) decides.
//   node cors-browser.mjs http://127.0.0.1:5000 "Bearer <jwt>" <allowed page port> <other page port> <run id> [/usr/bin/chromium]
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [api, authorization, allowedPort, otherPort, runId, executablePath = '/usr/bin/chromium'] = process.argv.slice(2);

// The page: a query with fetch, then a workflowEvents subscription over graphql-transport-ws, written by hand as a
// front-end's client would speak it. Its outcome lands in window.outcome.
const page = `<!doctype html><meta charset="utf-8"><script type="module">
const api = ${JSON.stringify(api)}, authorization = ${JSON.stringify(authorization)}, runId = ${JSON.stringify(runId)};
const outcome = window.outcome = { query: null, subscribed: false, event: null, socket: null };
try {
  const response = await fetch(api + '/graphql', { method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: authorization },
    body: JSON.stringify({ query: 'query ($id: ID!) { node(id: $id) { __typename id } }', variables: { id: runId } }) });
  outcome.query = (await response.json()).data?.node?.__typename ?? 'no data';
} catch (error) { outcome.query = 'refused: ' + error.message; }
const socket = new WebSocket(api.replace('http', 'ws') + '/graphql', 'graphql-transport-ws');
socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: authorization } }));
socket.onerror = () => { outcome.socket = 'refused'; };
socket.onmessage = (message) => {
  const data = JSON.parse(message.data);
  if (data.type === 'connection_ack') {
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: {
      query: 'subscription ($t: ID!) { workflowEvents(traceId: $t) { traceId eventType } }', variables: { t: runId } } }));
    setTimeout(() => { outcome.subscribed = true; }, 500);
  } else if (data.type === 'next') { outcome.event = data.payload.data?.workflowEvents?.eventType ?? JSON.stringify(data.payload); }
};
</script>`;

const serve = (port) => new Promise((resolve) => {
  const server = createServer((_, response) => { response.setHeader('Content-Type', 'text/html'); response.end(page); });
  server.listen(Number(port), '127.0.0.1', () => resolve(server));
});
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const until = async (test, ms) => { const end = Date.now() + ms; while (!(await test()) && Date.now() < end) await delay(100); };

const servers = [await serve(allowedPort), await serve(otherPort)];
const profile = mkdtempSync(join(tmpdir(), 'cors-profile-'));
const browser = await chromium.launchPersistentContext(profile, { executablePath, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'] });
const report = {};
try {
  for (const [name, port] of [['allowed', allowedPort], ['refused', otherPort]]) {
    const tab = await browser.newPage();
    await tab.goto(`http://127.0.0.1:${port}/`);
    const read = () => tab.evaluate(() => window.outcome);
    await until(async () => { const o = await read(); return o?.query && (o.subscribed || o.socket); }, 10_000);
    if ((await read()).subscribed) {
      // a change of the run over HTTP (no Origin: a server-side writer) reaches the page's subscription
      await fetch(api + '/graphql', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: authorization },
        body: JSON.stringify({ query: 'mutation ($t: ID!, $k: String!) { setWorkflowContext(input: { traceId: $t, key: $k, value: 1 }) { entry { key } } }',
          variables: { t: runId, k: `browser-${Date.now()}` } }) });
      await until(async () => (await read()).event, 10_000);
    }
    report[name] = await read();
    await tab.close();
  }
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
  servers.forEach((server) => server.close());
}
process.stdout.write(JSON.stringify(report) + '\n');
process.exit(0);
