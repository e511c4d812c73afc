// Headless Chromium for the live view's tests: Debian's `chromium` package driven by playwright-core
// (which downloads nothing), a fresh profile per run, and a record of everything the page did wrong:
// console errors, uncaught exceptions, failed or refused requests, and any request that left 127.0.0.1.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface WatchedBrowser {
  page: Page;
  /** Everything that went wrong so far, one line each; empty when the page behaved. */
  problems: string[];
  /** Every URL the page asked for. */
  requests: string[];
  close(): Promise<void>;
}

export async function openChromium(viewport = { width: 1600, height: 1000 }): Promise<WatchedBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `the live view's browser test needs Chromium at ${CHROMIUM_PATH}: install it with \`apt-get install -y chromium\``,
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'itchain-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ARGS,
      viewport,
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  const problems: string[] = [];
  const requests: string[] = [];
  let closing = false;
  context.on('request', (request) => requests.push(request.url()));
  context.on('requestfailed', (request) => {
    // Closing the page cuts its open event streams: that is not the page's failure.
    if (!closing) problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`);
  });
  context.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  return {
    page,
    problems,
    requests,
    close: async () => {
      closing = true;
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
