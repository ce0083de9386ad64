import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../../apps/gateway/src/config';
import { readRepoFile, repoPath } from '../support/deploy-files';
import {
  type DockerInstruction,
  type DockerStage,
  dockerIgnores,
  parseDockerfile,
  parseEnvInstruction,
  parseExecForm,
} from '../support/dockerfile';

const dockerfile = parseDockerfile(readRepoFile('Dockerfile'));
const runtime = dockerfile.stages.at(-1)!;
const rootPackage = JSON.parse(readRepoFile('package.json')) as {
  workspaces: string[];
  scripts: Record<string, string>;
};

/** Variables the image may set that Node or Express read, not the gateway's config. */
const RUNTIME_VARIABLES = ['NODE_ENV'];

function instructions(stage: DockerStage, keyword: string): DockerInstruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

function stageNamed(name: string): DockerStage {
  const stage = dockerfile.stages.find((s) => s.name === name);
  if (!stage) throw new Error(`no stage named ${name}`);
  return stage;
}

function isNpmCi(instruction: DockerInstruction): boolean {
  return instruction.keyword === 'RUN' && /\bnpm ci\b/.test(instruction.args);
}

/**
 * The build-context paths a stage holds under its WORKDIR (/app) before instruction `until`: what it COPYs from
 * the context, and what it COPYs whole (`/app`) from an earlier stage.
 */
function contextPathsIn(stage: DockerStage, until = stage.instructions.length): string[] {
  return stage.instructions.slice(0, until).flatMap((i) => {
    if (i.keyword !== 'COPY') return [];
    const sources = i.args.split(/\s+/).slice(0, -1);
    if (!i.flags.from) return sources.map((s) => s.replace(/\/$/, ''));
    return sources.some((s) => s.replace(/\/$/, '') === '/app')
      ? contextPathsIn(stageNamed(i.flags.from))
      : [];
  });
}

function runtimeEnv(): Record<string, string> {
  return Object.assign({}, ...instructions(runtime, 'ENV').map((i) => parseEnvInstruction(i.args)));
}

/** The workspace folders of the root package.json, `apps/*` expanded from what is on disk. */
function workspaceFolders(): string[] {
  return rootPackage.workspaces.flatMap((pattern) => {
    const parent = pattern.replace(/\/\*$/, '');
    return readdirSync(repoPath(parent))
      .map((name) => `${parent}/${name}`)
      .filter((folder) => existsSync(repoPath(folder, 'package.json')));
  });
}

describe('the gateway image (Dockerfile)', () => {
  it('builds in its own stage and ships a runtime stage on the same Node base image', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of dockerfile.stages)
      expect(stage.from).toMatch(/^node:\d+(\.\d+)*-(bookworm-slim|alpine)/);
    expect(new Set(dockerfile.stages.map((s) => s.from)).size).toBe(1);
    // A maintained LTS line: even-numbered, 22 or newer (Node 20 reached end of life).
    const major = Number(/^node:(\d+)/.exec(dockerfile.stages[0]!.from)![1]);
    expect(major % 2, 'an LTS (even) Node line').toBe(0);
    expect(major).toBeGreaterThanOrEqual(22);

    const build = stageNamed('build');
    const runs = instructions(build, 'RUN').map((i) => i.args);
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm run build\b/.test(r))).toBe(true);
    expect(runtime).not.toBe(build);
    expect(instructions(runtime, 'RUN')).toEqual([]);
  });

  it('gives the runtime stage production dependencies only', () => {
    const copies = instructions(runtime, 'COPY').filter((c) => /(^|\s)\S*node_modules\S*\s/.test(c.args));
    expect(copies).toHaveLength(1);
    const source = stageNamed(copies[0]!.flags.from!);
    const installs = instructions(source, 'RUN').filter((r) => /\bnpm ci\b/.test(r.args));
    expect(installs).toHaveLength(1);
    expect(installs[0]!.args).toMatch(/--omit=dev\b/);
  });

  it('copies the two bundles from the build stage and no sources into the runtime stage', () => {
    const copies = instructions(runtime, 'COPY');
    for (const copy of copies) expect(copy.flags.from, `line ${copy.line}: ${copy.args}`).toBeDefined();
    const fromBuild = copies.filter((c) => c.flags.from === 'build').map((c) => c.args.split(/\s+/)[0]);
    expect(fromBuild).toEqual(expect.arrayContaining(['/app/apps/gateway/dist', '/app/apps/web/dist']));
    expect(fromBuild.some((source) => /\/src\b/.test(source ?? ''))).toBe(false);

    // Where the build writes the bundle, and where the bundle looks for the page.
    expect(readRepoFile('apps/gateway/build.mjs')).toMatch(/['"]dist\/main\.mjs['"]/);
    expect(readRepoFile('apps/gateway/src/main.ts')).toContain("'../../web/dist'");
  });

  it('gives each `npm ci` the lockfile and every workspace manifest, so it installs the locked tree', () => {
    const needed = [
      'package.json',
      'package-lock.json',
      ...workspaceFolders().map((f) => `${f}/package.json`),
    ];
    expect(needed.length).toBeGreaterThanOrEqual(6);
    const installing = dockerfile.stages.filter((s) => s.instructions.some((i) => isNpmCi(i)));
    expect(installing.length).toBeGreaterThanOrEqual(2);
    for (const stage of installing) {
      const provided = contextPathsIn(stage, stage.instructions.findIndex(isNpmCi));
      for (const path of needed) {
        expect(
          provided.some((p) => path === p || path.startsWith(`${p}/`)),
          `stage ${stage.name}: ${path}`,
        ).toBe(true);
      }
    }
  });

  it('starts the bundle exactly as `npm run start:prod` does', () => {
    const cmd = instructions(runtime, 'CMD');
    expect(cmd).toHaveLength(1);
    expect(parseExecForm(cmd[0]!.args)).toEqual(rootPackage.scripts['start:prod']!.split(' '));
    expect(instructions(runtime, 'ENTRYPOINT')).toEqual([]);
  });

  it('runs as the non-root node user, by number so Kubernetes can verify it', () => {
    const users = instructions(runtime, 'USER');
    expect(users.length).toBeGreaterThanOrEqual(1);
    const [user, group] = users.at(-1)!.args.split(':');
    expect(user).toMatch(/^\d+$/);
    expect(Number(user)).toBeGreaterThan(0);
    if (group !== undefined) expect(Number(group)).toBeGreaterThan(0);
    const last = (keyword: string) => runtime.instructions.findLastIndex((i) => i.keyword === keyword);
    expect(last('USER')).toBeLessThan(last('CMD'));
  });

  it("exposes the port the gateway listens on by default, and sets it so the health check can't miss it", () => {
    const exposed = instructions(runtime, 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
    expect(exposed).toEqual([String(loadConfig({}).port)]);
    expect(runtimeEnv().PORT).toBe(exposed[0]);
  });

  it('sets only variables the gateway or Node reads, valid for the gateway, with JSON logs', () => {
    const env = runtimeEnv();
    for (const name of Object.keys(env)) expect([...CONFIG_VARIABLES, ...RUNTIME_VARIABLES]).toContain(name);
    expect(env.LOG_FORMAT).toBe('json');
    expect(env.NODE_ENV).toBe('production');
    expect(() => loadConfig(env)).not.toThrow();
  });

  it("checks liveness with Node's own fetch on /healthz at the gateway's port", () => {
    const checks = instructions(runtime, 'HEALTHCHECK');
    expect(checks).toHaveLength(1);
    const { flags, args } = checks[0]!;
    expect(args).toMatch(/^CMD\s+\[/);
    const [node, flag, script] = parseExecForm(args.replace(/^CMD\s+/, ''));
    expect([node, flag]).toEqual(['node', '-e']);
    expect(script).toContain("'/healthz'");
    expect(script).toContain('process.env.PORT');
    expect(script).toMatch(new RegExp(`\\|\\|\\s*${runtimeEnv().PORT}\\b`));
    for (const option of ['interval', 'timeout', 'retries']) expect(flags[option]).toBeDefined();
  });

  it('stops with SIGTERM, which starts the graceful drain', () => {
    expect(instructions(runtime, 'STOPSIGNAL').map((i) => i.args)).toEqual(['SIGTERM']);
  });
});

describe('the build context (.dockerignore)', () => {
  const ignoreFile = readRepoFile('.dockerignore');

  it('leaves out dependencies, build output, git, tests and their reports', () => {
    for (const path of [
      'node_modules',
      'node_modules/express/package.json',
      'apps/web/node_modules',
      'apps/gateway/dist/main.mjs',
      'apps/web/dist/app.js',
      '.git',
      '.git/HEAD',
      'reports/vitest.json',
      'coverage',
      'test/support/cluster.ts',
      'apps/gateway/src/config.test.ts',
      '.env',
    ]) {
      expect(dockerIgnores(ignoreFile, path), path).toBe(true);
    }
  });

  it('keeps everything the build stages copy from the context', () => {
    const sources = dockerfile.stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === 'COPY' && !i.flags.from)
      .flatMap((i) =>
        i.args
          .split(/\s+/)
          .slice(0, -1)
          .map((s) => s.replace(/\/$/, '')),
      );
    expect(sources.length).toBeGreaterThan(0);
    const needed = [
      ...sources,
      'apps/gateway/build.mjs',
      'apps/gateway/src/main.ts',
      'apps/web/build.mjs',
      'apps/web/index.html',
      'apps/web/src/main.ts',
      'packages/protocol/src/index.ts',
    ];
    for (const path of needed) {
      expect(existsSync(repoPath(path)), path).toBe(true);
      expect(dockerIgnores(ignoreFile, path), path).toBe(false);
    }
  });
});
