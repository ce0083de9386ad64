import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

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
