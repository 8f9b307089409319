// Headless Chromium for the Banana Cake Pop checks (ide-smoke.mjs, ide-subscription.mjs): a fresh profile, only the
// server under test reachable, one page. screenshot(path) keeps the page for a failure report (the path, or undefined
// when it could not be taken); close() ends the browser and removes the profile.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function openIde(base, executablePath) {
  const profile = mkdtempSync(join(tmpdir(), 'bcp-profile-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      // The IDE's service worker reloads the page once it has cached itself; blocking it keeps one page load.
      serviceWorkers: 'block',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    context.setDefaultTimeout(20_000);
    // Only the server under test: the IDE's links to the outside (fonts, news, telemetry) are refused, not awaited.
    await context.route((url) => url.origin !== new URL(base).origin, (route) => route.abort());
  } catch (error) {
    await context?.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return {
    page,
    pageErrors,
    screenshot: async (path) => {
      if (!path) return undefined;
      try {
        await page.screenshot({ path });
        return path;
      } catch {
        return undefined;
      }
    },
    close: async () => {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
