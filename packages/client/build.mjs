// Builds @chorus/client into dist/ as a package that installs on its own: `npm pack ./dist` (or `npm run pack`).
//
//   dist/index.js        one ESM bundle for Node and browsers; socket.io-client stays an import (the package's one
//                        runtime dependency), what it needs from @chorus/protocol (a private workspace package) is
//                        bundled in
//   dist/*.d.ts          declarations emitted by tsc; @chorus/protocol's go to dist/protocol/, with the types it
//                        derives from zod schemas written out as plain object types, so that a consumer needs
//                        neither @chorus/protocol nor zod
//   dist/package.json    the published manifest: exports pointing at the files above
//
// The workspace itself keeps importing the SDK from src/ (package.json `exports`), so nothing here has to run
// before the repo's type-check or tests.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const staging = join(dist, '.staging');
const protocolSrc = join(here, '..', 'protocol', 'src');
const manifest = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const require = createRequire(import.meta.url);
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');

rmSync(dist, { recursive: true, force: true });
mkdirSync(staging, { recursive: true });

// 1. The bundle. The protocol's modules are marked free of side effects so that its zod schemas, which the SDK
// never calls, are left out together with zod.
await build({
  entryPoints: [join(here, 'src', 'index.ts')],
  outfile: join(dist, 'index.js'),
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  external: Object.keys(manifest.dependencies),
  sourcemap: true,
  legalComments: 'inline',
  logLevel: 'warning',
  plugins: [
    {
      name: 'protocol-without-side-effects',
      setup(b) {
        b.onResolve({ filter: /^@chorus\/protocol$/ }, () => ({
          path: join(protocolSrc, 'index.ts'),
          sideEffects: false,
        }));
        b.onResolve({ filter: /^\.\.?\// }, (args) =>
          args.importer.startsWith(protocolSrc) ? { sideEffects: false } : undefined,
        );
      },
    },
  ],
});

// 2. Declarations of the SDK and of the protocol (resolved to its sources through `paths`).
const declarations = join(staging, 'types');
execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.build.json'), '--outDir', declarations], {
  stdio: 'inherit',
});
const clientTypes = join(declarations, 'client', 'src');
const protocolTypes = join(declarations, 'protocol', 'src');

// 3. Types the protocol infers from zod schemas (`z.infer<typeof PositionSchema>`), written out structurally by
// tsc itself: the declared type of `expand<T>()` is T with every alias resolved.
const ZOD_TYPE = /^export type (\w+) = z\.(?:infer|input|output)<typeof \w+>;$/gm;
const zodTypes = new Map(); // protocol file -> names
for (const file of readdirSync(protocolTypes)) {
  const names = [...readFileSync(join(protocolTypes, file), 'utf8').matchAll(ZOD_TYPE)].map((m) => m[1]);
  if (names.length > 0) zodTypes.set(file, names);
}
const expandDir = join(staging, 'expand');
mkdirSync(expandDir, { recursive: true });
const allNames = [...zodTypes.values()].flat();
writeFileSync(
  join(expandDir, 'expand.ts'),
  [
    `import type * as P from '${relative(expandDir, join(protocolSrc, 'index')).replaceAll('\\', '/')}';`,
    'type Plain<T> = T extends object ? { [K in keyof T]: Plain<T[K]> } : T;',
    'declare function expand<T>(): { [K in keyof T]: Plain<T[K]> };',
    ...allNames.map((name) => `export const ${name} = expand<P.${name}>();`),
    '',
  ].join('\n'),
);
writeFileSync(
  join(expandDir, 'tsconfig.json'),
  JSON.stringify({
    extends: join(here, 'tsconfig.build.json'),
    compilerOptions: { rootDir: join(here, '..'), outDir: join(expandDir, 'out') },
    files: [join(expandDir, 'expand.ts')],
  }),
);
execFileSync(process.execPath, [tsc, '-p', join(expandDir, 'tsconfig.json')], { stdio: 'inherit' });
const expandedText = readFileSync(
  join(expandDir, 'out', relative(join(here, '..'), expandDir), 'expand.d.ts'),
  'utf8',
);
const expanded = new Map(
  [...expandedText.matchAll(/^export declare const (\w+): ([\s\S]*?);$(?=\n(?:export|$))/gm)].map((m) => [
    m[1],
    m[2],
  ]),
);
for (const name of allNames) {
  if (!expanded.has(name)) throw new Error(`build: could not write out the protocol type ${name}`);
}

/**
 * Top-level statements of a tsc-emitted declaration file, each with the JSDoc before it: tsc starts every
 * statement at column 0 and indents everything inside one.
 */
function statements(text) {
  const out = [];
  let current = [];
  let comment = [];
  let inComment = false;
  for (const line of text.split('\n')) {
    if (inComment) {
      comment.push(line);
      if (line.includes('*/')) inComment = false;
      continue;
    }
    if (line.startsWith('/**') || line.startsWith('/*')) {
      if (current.length > 0) out.push(current.join('\n'));
      current = [];
      comment = [line];
      inComment = !line.includes('*/');
      continue;
    }
    const starts = line !== '' && !/^[\s})\]]/.test(line);
    if (starts) {
      if (current.length > 0) out.push(current.join('\n'));
      current = [...comment, line];
      comment = [];
    } else if (line !== '' || current.length > 0) {
      current.push(line);
    }
  }
  if (current.length > 0) out.push(current.join('\n'));
  return out.map((s) => s.trimEnd()).filter((s) => s !== '');
}

/** A protocol declaration file without zod: inferred types written out, schemas and zod helpers left out. */
function withoutZod(file, text) {
  const names = new Set(zodTypes.get(file) ?? []);
  const kept = [];
  for (const statement of statements(text)) {
    const alias = /^(?:\/\*\*[\s\S]*?\*\/\n)?export type (\w+) = z\.(?:infer|input|output)</.exec(statement);
    if (alias && names.has(alias[1])) {
      kept.push(
        statement.replace(/export type [\s\S]*$/, `export type ${alias[1]} = ${expanded.get(alias[1])};`),
      );
    } else if (!/\bz\.|from 'zod'|from "zod"/.test(statement)) {
      kept.push(statement);
    }
  }
  return `${kept.join('\n')}\n`;
}

/** Relative specifiers get their `.js`, as Node's ESM resolution (and `moduleResolution: node16`) wants. */
function withExtensions(text) {
  return text.replace(/(from |import\()(['"])(\.\.?\/[^'"]+?)(\2)/g, (all, keyword, quote, path) =>
    path.endsWith('.js') ? all : `${keyword}${quote}${path}.js${quote}`,
  );
}

mkdirSync(join(dist, 'protocol'), { recursive: true });
for (const file of readdirSync(protocolTypes)) {
  const text = readFileSync(join(protocolTypes, file), 'utf8');
  writeFileSync(join(dist, 'protocol', file), withExtensions(withoutZod(file, text)));
}
for (const file of readdirSync(clientTypes)) {
  const text = readFileSync(join(clientTypes, file), 'utf8').replace(
    /(['"])@chorus\/protocol\1/g,
    "'./protocol/index'",
  );
  writeFileSync(join(dist, file), withExtensions(text));
}
rmSync(staging, { recursive: true, force: true });

// 4. The published manifest and its README.
const published = {
  name: manifest.name,
  version: manifest.version,
  description: manifest.description,
  license: manifest.license,
  type: 'module',
  exports: { '.': { types: './index.d.ts', default: './index.js' } },
  types: './index.d.ts',
  sideEffects: false,
  engines: manifest.engines,
  dependencies: manifest.dependencies,
};
writeFileSync(join(dist, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);
cpSync(join(here, 'README.md'), join(dist, 'README.md'));

// 5. Nothing may point back into the workspace or need zod, and the declarations must compile on their own (a
// type left out above would show here as a missing name).
for (const file of readdirSync(dist, { recursive: true })) {
  if (!/\.(js|d\.ts)$/.test(file)) continue;
  const text = readFileSync(join(dist, file), 'utf8');
  if (/@chorus\/protocol|['"]zod['"]|\bz\.(infer|input|output|Zod)/.test(text)) {
    throw new Error(`build: dist/${file} still refers to @chorus/protocol or zod`);
  }
}
execFileSync(
  process.execPath,
  [
    tsc,
    '--ignoreConfig',
    '--noEmit',
    '--strict',
    '--skipLibCheck',
    'false',
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    '--target',
    'es2022',
    '--lib',
    'es2022,dom',
    '--types',
    '',
    join(dist, 'index.d.ts'),
  ],
  { stdio: 'inherit' },
);
