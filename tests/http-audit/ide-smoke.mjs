// Opens Banana Cake Pop in headless Chromium the way an analyst would: loads <base>/graphql, waits until the IDE
// has introspected the schema, types a query into a new document, runs it and reads the answer. Prints one JSON
// object on stdout: { ok, steps: [...], error?, screenshot? }; the xunit test BananaCakePopBrowserTests judges it.
// The service runs in development mode there, so the IDE's requests carry the token its bcp-config.json gives it.
//   node ide-smoke.mjs http://127.0.0.1:5000 [/usr/bin/chromium] [failure-screenshot.png]
import { openIde } from './ide-browser.mjs';

const [base, executablePath = '/usr/bin/chromium', screenshotPath] = process.argv.slice(2);
const query = '{ traces(first: 1) { totalCount } }';
const steps = [];
// A wait that is abandoned when an earlier step fails must not crash the script after it has reported.
const pending = (promise) => (promise.catch(() => {}), promise);
const step = (name) => steps.push(name);
const report = (fields) => process.stdout.write(JSON.stringify({ steps, ...fields }) + '\n');

let ide;
try {
  ide = await openIde(base, executablePath);
  const { page, pageErrors } = ide;

  const response = await page.goto(`${base}/graphql`);
  step(`GET /graphql answered ${response?.status()} at ${page.url()}`);

  // A new document connects to the endpoint from bcp-config.json and introspects it.
  const introspected = pending(page.waitForResponse(
    (response) => response.request().method() === 'POST' && (response.request().postData() ?? '').includes('__schema')));
  await page.getByRole('button', { name: 'Create Document' }).click();
  const introspection = await introspected;
  const schema = await introspection.json();
  if (introspection.status() !== 200 || !schema?.data?.__schema?.queryType)
    throw new Error(`introspection failed: ${introspection.status()} ${JSON.stringify(schema).slice(0, 300)}`);
  step(`a new document introspected ${introspection.url()}`);
  await page.getByText('Schema available').waitFor();
  step('the IDE shows "Schema available"');

  // The request editor is the first Monaco editor; insertText avoids its auto-closing of braces.
  await page.locator('.monaco-editor').first().click();
  await page.keyboard.insertText(query);
  // The IDE parses the editor's text a moment later and then puts a "Run" lens over the operation; Run before
  // that would send the old, empty document.
  await page.locator('.monaco-editor .codelens-decoration').first().waitFor();
  const executed = pending(page.waitForResponse(
    (response) => response.request().method() === 'POST' && (response.request().postData() ?? '').includes('traces')));
  await page.getByRole('button', { name: /^Run Operation/ }).click();
  const run = await executed;
  const body = await run.json();
  if (run.status() !== 200 || typeof body?.data?.traces?.totalCount !== 'number')
    throw new Error(`running the query failed: ${run.status()} ${JSON.stringify(body).slice(0, 300)}`);
  const authorization = (await run.request().allHeaders())['authorization'];
  step(`the query ran${authorization ? ` with Authorization: ${authorization.slice(0, 16)}…` : ' without an Authorization header'}: ${JSON.stringify(body)}`);

  await page.locator('.monaco-editor .view-lines', { hasText: '"totalCount"' }).waitFor();
  step('the response pane shows totalCount');
  if (pageErrors.length) step(`page errors (not fatal): ${pageErrors.join(' | ').slice(0, 300)}`);
  report({ ok: true });
} catch (error) {
  report({ ok: false, error: String(error?.message ?? error), screenshot: await ide?.screenshot(screenshotPath) });
} finally {
  await ide?.close();
}
