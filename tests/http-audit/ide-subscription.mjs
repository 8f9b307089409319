// Runs a subscription in Banana Cake Pop (headless Chromium) over the service's WebSocket transport: starts a run of
// <workflowId> over HTTP with the token bcp-config.json gives the IDE, subscribes to that run's events in a new
// document, then sets context values of the run over HTTP (every 300 ms, for at most 10 s) until the IDE receives an
// event. Checks the WebSocket frames (graphql-transport-ws: connection_init carrying the IDE's token,
// connection_ack, subscribe, next), that the response pane shows the event, and that Cancel ends the subscription.
// The IDE opens its sockets in a web worker, where the handshake is out of reach; the server accepts a socket that
// does not offer graphql-transport-ws only to close it with 4406, so a connection_ack shows the subprotocol was agreed.
// Prints one JSON object on stdout: { ok, steps: [...], frames: [...], error?, screenshot? }; the xunit test
// BananaCakePopSubscriptionTests judges it.
//   node ide-subscription.mjs http://127.0.0.1:5000 <workflowId> [/usr/bin/chromium] [failure-screenshot.png]
import { openIde } from './ide-browser.mjs';

const [base, workflowId, executablePath = '/usr/bin/chromium', screenshotPath] = process.argv.slice(2);
const steps = [];
// Every frame of every socket the page opens, as `#<socket> > sent` / `#<socket> < received`, tokens shortened.
const frames = [];
const messages = []; // { socket, direction: '>' | '<', message }
const pending = (promise) => (promise.catch(() => {}), promise);
const step = (name) => steps.push(name);
const report = (fields) => process.stdout.write(JSON.stringify({ steps, frames, ...fields }) + '\n');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const redact = (text) => text.replace(/(Bearer [A-Za-z0-9_-]{8})[A-Za-z0-9_.-]+/g, '$1…');
const find = (direction, type, where = () => true) =>
  messages.find((m) => m.direction === direction && m.message?.type === type && where(m));
async function until(what, timeoutMs, check) {
  for (const deadline = Date.now() + timeoutMs; ; await sleep(50)) {
    const found = check();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs / 1000} s`);
  }
}

async function post(authorization, query, variables) {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (response.status !== 200 || body.errors) throw new Error(`POST failed: ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
  return body.data;
}

let ide;
try {
  // The IDE sends the token its configuration gives it; the events are produced with the same one (its org's admin).
  const config = await (await fetch(`${base}/graphql/bcp-config.json`)).json();
  const authorization = Object.entries(config.httpHeaders ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
  if (!authorization) throw new Error(`bcp-config.json has no Authorization header: ${JSON.stringify(config).slice(0, 300)}`);
  step(`bcp-config.json: subscriptionProtocol ${config.subscriptionProtocol}, an Authorization header`);

  const started = await post(authorization, `mutation ($workflowId: ID!) {
      startWorkflowExecution(input: { workflowId: $workflowId, channel: WEB }) { trace { id } errors { __typename ... on Error { message } } }
    }`, { workflowId });
  const traceId = started.startWorkflowExecution.trace?.id;
  if (traceId == null) throw new Error(`startWorkflowExecution failed: ${JSON.stringify(started)}`);
  step(`started run ${traceId} over HTTP`);
  const subscription = `subscription { workflowEvents(traceId: "${traceId}") { id traceId eventType } }`;

  ide = await openIde(base, executablePath);
  const { page, pageErrors } = ide;

  let sockets = 0;
  const closed = new Set();
  page.on('websocket', (socket) => {
    const number = ++sockets;
    frames.push(`#${number} open ${socket.url()}`);
    const record = (direction) => ({ payload }) => {
      const text = String(payload);
      frames.push(`#${number} ${direction} ${redact(text)}`);
      let message;
      try { message = JSON.parse(text); } catch {}
      messages.push({ socket: number, direction, message });
    };
    socket.on('framesent', record('>'));
    socket.on('framereceived', record('<'));
    socket.on('socketerror', (error) => frames.push(`#${number} error ${error}`));
    socket.on('close', () => (frames.push(`#${number} closed`), closed.add(number)));
  });

  const response = await page.goto(`${base}/graphql`);
  step(`GET /graphql answered ${response?.status()} at ${page.url()}`);
  const introspected = pending(page.waitForResponse(
    (response) => response.request().method() === 'POST' && (response.request().postData() ?? '').includes('__schema')));
  await page.getByRole('button', { name: 'Create Document' }).click();
  const introspection = await introspected;
  if (introspection.status() !== 200) throw new Error(`introspection failed: ${introspection.status()}`);
  await page.getByText('Schema available').waitFor();
  step('a new document introspected the schema');

  // As in ide-smoke.mjs: insertText avoids Monaco's auto-closing braces, and Run waits for the IDE's "Run" lens.
  await page.locator('.monaco-editor').first().click();
  await page.keyboard.insertText(subscription);
  await page.locator('.monaco-editor .codelens-decoration').first().waitFor();
  await page.getByRole('button', { name: /^Run Operation/ }).click();
  step(`clicked Run Operation on ${subscription}`);

  const subscribe = await until('the IDE sent no subscribe message for workflowEvents on a WebSocket', 15_000,
    () => find('>', 'subscribe', (m) => m.message.payload?.query?.includes(`workflowEvents(traceId: "${traceId}")`)));
  const init = find('>', 'connection_init', (m) => m.socket === subscribe.socket);
  const ack = find('<', 'connection_ack', (m) => m.socket === subscribe.socket);
  if (!init || !ack) throw new Error(`the socket that subscribed had no connection_init / connection_ack before it`);
  const initHeader = Object.entries(init.message.payload ?? {}).find(([name]) => name.toLowerCase() === 'authorization');
  if (initHeader?.[1] !== authorization)
    throw new Error(`connection_init did not carry the IDE's token: payload keys ${Object.keys(init.message.payload ?? {}).join(', ')}`);
  step(`socket #${subscribe.socket}: connection_init with payload keys [${Object.keys(init.message.payload).join(', ')}] ` +
    `(${initHeader[0]}: the IDE's token), connection_ack, subscribe ${subscribe.message.id}`);

  // A live subscription gets the events committed after the server took the subscribe message; produce until one comes.
  const isNext = (m) => m.socket === subscribe.socket && m.message.id === subscribe.message.id;
  let produced = 0;
  const deadline = Date.now() + 10_000;
  while (!find('<', 'next', isNext) && !find('<', 'error', isNext)) {
    if (Date.now() > deadline) throw new Error(`no next message within 10 s after ${produced} context change(s) of run ${traceId}`);
    const set = await post(authorization, `mutation ($traceId: ID!, $key: String!) {
        setWorkflowContext(input: { traceId: $traceId, key: $key, value: 1 }) { entry { key } errors { __typename } }
      }`, { traceId, key: `bcp-${++produced}` });
    if (set.setWorkflowContext.errors) throw new Error(`setWorkflowContext failed: ${JSON.stringify(set)}`);
    await until('', 300, () => find('<', 'next', isNext) || find('<', 'error', isNext)).catch(() => {});
  }
  const failed = find('<', 'error', isNext);
  if (failed) throw new Error(`the subscription failed: ${JSON.stringify(failed.message.payload)}`);
  const next = find('<', 'next', isNext);
  const event = next.message.payload?.data?.workflowEvents;
  if (event?.traceId !== traceId || event?.eventType !== 'context_set')
    throw new Error(`unexpected next payload: ${JSON.stringify(next.message.payload)}`);
  step(`after ${produced} context change(s) over HTTP the IDE received next ${JSON.stringify(next.message.payload)}`);

  // The response pane is the second Monaco editor; the request editor never contains the event's type.
  await page.locator('.monaco-editor .view-lines', { hasText: '"context_set"' }).first().waitFor({ timeout: 10_000 });
  step('the response pane shows the context_set event');

  // Cancel ends the subscription: the IDE sends complete for it, or closes the socket that carried it.
  await page.getByRole('button', { name: /^Cancel/ }).first().click();
  const ended = await until('after Cancel the IDE neither sent complete nor closed the socket', 10_000,
    () => (find('>', 'complete', (m) => m.socket === subscribe.socket && m.message.id === subscribe.message.id) && 'sent complete') ||
      (closed.has(subscribe.socket) && 'closed the socket'));
  step(`Cancel ${ended}`);

  if (pageErrors.length) step(`page errors (not fatal): ${pageErrors.join(' | ').slice(0, 300)}`);
  report({ ok: true });
} catch (error) {
  report({ ok: false, error: String(error?.message ?? error), screenshot: await ide?.screenshot(screenshotPath) });
} finally {
  await ide?.close();
}
