import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../support/browser';
import { connectClient, waitForMessages } from '../support/clients';
import { useCluster } from '../support/hooks';
import { REPO_ROOT } from '../support/process';
import { eventually, withTimeout } from '../support/wait';

/**
 * The SDK as someone outside this repo gets it: built, packed with `npm pack`, installed from the tarball into
 * a fresh project in the system's temp folder (where nothing of the workspace can be resolved), then used
 * only through its public API: by a Node ESM script, by a browser page bundled with esbuild, and by a
 * TypeScript file checked against the installed declarations.
 */

const run = promisify(execFile);
const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const npm = (args: string[], cwd: string) =>
  run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, timeout: 60_000 });

const work = mkdtempSync(join(tmpdir(), 'chorus-sdk-package-'));
const project = join(work, 'consumer');
/** Served by the gateways, so the page's origin is theirs and its scripts pass their CSP. */
const webRoot = join(work, 'web');
let tarball: string;

beforeAll(async () => {
  await npm(['run', 'build', '--workspace', '@chorus/client'], REPO_ROOT);
  const { stdout } = await npm(
    ['pack', join(REPO_ROOT, 'packages', 'client', 'dist'), '--pack-destination', work, '--json'],
    REPO_ROOT,
  );
  const [packed] = JSON.parse(stdout) as { filename: string }[];
  tarball = join(work, packed!.filename);

  mkdirSync(project);
  mkdirSync(webRoot);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'sdk-consumer', private: true, type: 'module' }),
  );
  // socket.io-client comes from the npm cache (or the registry) like any dependency would.
  await npm(['install', '--prefer-offline', tarball], project);
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const cluster = useCluster({ gateways: 2, webRoot });

describe('the packed @chorus/client', () => {
  it('is a tarball of the built files whose one dependency is socket.io-client', async () => {
    const installed = join(project, 'node_modules', '@chorus', 'client');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    expect(manifest.dependencies).toEqual({ 'socket.io-client': expect.any(String) });
    expect(manifest.exports).toEqual({ '.': { types: './index.d.ts', default: './index.js' } });
    const files = readdirSync(installed, { recursive: true }).map(String);
    expect(files).toContain('README.md');
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    for (const file of files.filter((f) => /\.(js|d\.ts)$/.test(f))) {
      expect(readFileSync(join(installed, file), 'utf8'), file).not.toMatch(
        /@chorus\/protocol|from ['"]zod['"]/,
      );
    }
    // npm installed exactly the SDK and socket.io-client's own tree: no workspace package, no zod.
    const top = readdirSync(join(project, 'node_modules'));
    expect(top).not.toContain('zod');
    expect(readdirSync(join(project, 'node_modules', '@chorus'))).toEqual(['client']);
  });

  it('runs a Node ESM client on the public API alone: it sends on one gateway and hears the other', async () => {
    const [a, b] = cluster.gateways;
    writeFileSync(
      join(project, 'chat.mjs'),
      `import { createChorusClient } from '@chorus/client';

const [urlA, urlB] = process.argv.slice(2);
const alice = createChorusClient({ urls: [urlA], name: 'alice' });
const bob = createChorusClient({ urls: [urlB], name: 'bob' });
const heard = new Promise((resolve) => bob.on('message', (m) => resolve(m)));
await alice.join('packed');
await bob.join('packed');
const sent = await alice.send('packed', 'hello from the tarball');
const got = await heard;
console.log(JSON.stringify({ sent: sent.seq, got: { seq: got.seq, from: got.user.name, text: got.text } }));
alice.close();
bob.close();
`,
    );
    const { stdout } = await run(process.execPath, ['chat.mjs', a!.url, b!.url], {
      cwd: project,
      timeout: 15_000,
    });
    expect(JSON.parse(stdout)).toEqual({
      sent: 1,
      got: { seq: 1, from: 'alice', text: 'hello from the tarball' },
    });
  });

  it("runs the README's complete client as written: lines typed in go to the room, the room's messages come out", async () => {
    const [a, b] = cluster.gateways;
    const readme = readFileSync(join(REPO_ROOT, 'packages', 'client', 'README.md'), 'utf8');
    const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example?.split('\n').length).toBeLessThanOrEqual(25);
    writeFileSync(join(project, 'readme-chat.mjs'), example!);
    const bob = await connectClient(b!.url, { name: 'bob' });
    await bob.ok('room:join', { room: 'readme' });

    const chat = spawn(process.execPath, ['readme-chat.mjs', a!.url, 'alice', 'readme'], { cwd: project });
    let output = '';
    chat.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    chat.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => chat.once('exit', resolve));
    try {
      await eventually(() => expect(output).toContain('* in readme with'));
      chat.stdin.write('hello from the README\n');
      const [fromReadme] = await waitForMessages(bob, 'readme', 1);
      expect(fromReadme).toMatchObject({ text: 'hello from the README', user: { name: 'alice' } });
      await bob.ok('message:send', { room: 'readme', text: 'hi alice' });
      await eventually(() => expect(output).toContain('[readme #2] bob: hi alice'));
      expect(output).toContain('[readme #1] alice: hello from the README');
      // Closing the input closes the client, and nothing else keeps the process alive.
      chat.stdin.end();
      expect(await withTimeout(exited, 5_000, 'the README client to exit')).toBe(0);
    } finally {
      chat.kill();
    }
  });

  it('bundles a browser page from the installed package that chats in Chromium', async () => {
    const [a, b] = cluster.gateways;
    writeFileSync(
      join(project, 'page.js'),
      `import { createChorusClient } from '@chorus/client';

const client = createChorusClient({ urls: [location.origin], name: 'browser' });
client.on('message', (m) => {
  const li = document.createElement('li');
  li.textContent = m.user.name + ': ' + m.text;
  document.getElementById('log').append(li);
});
await client.join('packed');
await client.send('packed', 'hello from a bundled page');
`,
    );
    // Resolved from the consumer project only: a bare import the package does not provide would fail here.
    await build({
      absWorkingDir: project,
      entryPoints: ['page.js'],
      outfile: join(webRoot, 'page.js'),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'silent',
    });
    writeFileSync(
      join(webRoot, 'sdk.html'),
      '<!doctype html><title>sdk</title><ul id="log"></ul><script type="module" src="page.js"></script>\n',
    );
    const bob = await connectClient(b!.url, { name: 'bob' });
    await bob.ok('room:join', { room: 'packed' });

    const browser = await launchBrowser();
    try {
      const page = await (await browser.newContext()).newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${a!.url}/sdk.html`);
      const [fromPage] = await waitForMessages(bob, 'packed', 1);
      expect(fromPage).toMatchObject({ text: 'hello from a bundled page', user: { name: 'browser' } });
      await bob.ok('message:send', { room: 'packed', text: 'hello, page' });
      await page.getByText('bob: hello, page').waitFor({ timeout: 5_000 });
      expect(await page.locator('#log li').allTextContents()).toEqual([
        'browser: hello from a bundled page',
        'bob: hello, page',
      ]);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('type-checks a TypeScript consumer against the installed declarations, library files included', async () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022', 'DOM'],
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: [],
        },
        files: ['consumer.ts'],
      }),
    );
    writeFileSync(
      join(project, 'consumer.ts'),
      `import {
  type ChatMessage,
  type ChorusClient,
  ChorusError,
  createChorusClient,
  type ErrorCode,
  LIMITS,
  type RoomJoinResult,
} from '@chorus/client';

const client: ChorusClient = createChorusClient({ urls: ['http://localhost:3000'], name: 'ts' });
client.on('message', (m: ChatMessage) => m.text.toUpperCase());
client.on('state', (state) => state satisfies 'connecting' | 'connected' | 'reconnecting' | 'closed');

export async function talk(): Promise<number> {
  const joined: RoomJoinResult = await client.join('lobby');
  try {
    const sent = await client.send('lobby', 'x'.repeat(LIMITS.textMax));
    return sent.seq + joined.history.length;
  } catch (error) {
    if (error instanceof ChorusError) {
      const code: ErrorCode = error.code;
      return code.length;
    }
    throw error;
  }
}

// @ts-expect-error: text is a string
void client.send('lobby', 42);
// @ts-expect-error: urls is required
createChorusClient({ name: 'no urls' });
`,
    );
    const result = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], {
      cwd: project,
      timeout: 30_000,
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }));
    expect(result.stdout).toBe('');
  });
});
