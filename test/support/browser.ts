import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

const WEB = fileURLToPath(new URL('../../apps/web/', import.meta.url));

/** Flags for a quiet headless Chromium in a container: no sandbox (root), no GPU, no calls home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches the system Chromium (`CHROMIUM_PATH`, default the Debian package's `/usr/bin/chromium`); browser
 * downloads are not possible here. Playwright gives it a fresh temporary profile and deletes it on close.
 */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(
      `The browser tests need Chromium at ${executablePath}: install it (Debian: apt-get install chromium) ` +
        'or set CHROMIUM_PATH.',
    );
  }
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 20_000 });
}

function newestChange(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestChange(join(path, name))));
}

/**
 * The built pages' folder (`apps/web/dist`: the chat page and the cluster page), built first when a bundle is
 * missing or older than its sources, so the browser tests never run against a stale page.
 */
export function ensureWebBuilt(): string {
  const dist = join(WEB, 'dist');
  const bundles = ['app.js', 'admin.js'].map((name) => join(dist, name));
  const sources = Math.max(
    ...['src', 'index.html', 'admin.html', 'build.mjs'].map((name) => newestChange(join(WEB, name))),
  );
  if (bundles.some((bundle) => !existsSync(bundle) || statSync(bundle).mtimeMs < sources)) {
    execFileSync(process.execPath, [join(WEB, 'build.mjs')], { stdio: 'pipe', timeout: 30_000 });
  }
  return dist;
}

/** How `BrowserHandle.openPage` opens a page. */
export interface OpenPageOptions {
  viewport: { width: number; height: number };
  /** Put before each error the page records (`alice: …`), to tell apart the pages of one test. */
  label?: string;
  /** Console errors to leave out of `pageErrors`, such as the 401 a refused token is meant to cause. */
  ignoreConsoleError?: (text: string) => boolean;
}

/** The Chromium of a test file and the built pages; read it inside tests and hooks, once `beforeAll` has run. */
export interface BrowserHandle {
  /** The built pages' folder (see `ensureWebBuilt`), to serve from the gateways. */
  readonly webRoot: string;
  /**
   * Uncaught errors and console errors (CSP violations among them) of the current test's pages; emptied before
   * each test. A test may add its own (an unexpected dialog, say).
   */
  readonly pageErrors: string[];
  /** Opens a blank page in a browser context of its own, closed after the test; its errors go to `pageErrors`. */
  openPage(options: OpenPageOptions): Promise<Page>;
}

/**
 * Builds the pages if they are stale and launches Chromium before the tests of the enclosing file, closing it
 * after them; closes every context a test opened after that test. Call it after `useRedis`, so the Redis
 * starts before the browser and stops after it, and the clusters close after the browser contexts.
 */
export function useBrowser(): BrowserHandle {
  let webRoot: string | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    webRoot = ensureWebBuilt();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    browser = undefined;
  });
  beforeEach(() => {
    pageErrors.length = 0;
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });

  const started = (): { browser: Browser; webRoot: string } => {
    if (!browser || !webRoot)
      throw new Error('useBrowser: the browser is not running; use it inside a test or hook');
    return { browser, webRoot };
  };
  return {
    get webRoot() {
      return started().webRoot;
    },
    pageErrors,
    openPage: async ({ viewport, label, ignoreConsoleError }) => {
      const context = await started().browser.newContext({ viewport });
      context.setDefaultTimeout(10_000);
      contexts.push(context);
      const page = await context.newPage();
      const record = (text: string) => pageErrors.push(label === undefined ? text : `${label}: ${text}`);
      page.on('pageerror', (error) => record(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error' && !ignoreConsoleError?.(message.text())) record(message.text());
      });
      return page;
    },
  };
}
