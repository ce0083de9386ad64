// Bundles the gateway into dist/main.mjs for containers and production: workspace packages (TypeScript sources)
// are inlined, npm dependencies stay external and are loaded from node_modules.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const root = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: [new URL('src/main.ts', import.meta.url).pathname],
  outfile: new URL('dist/main.mjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external: Object.keys(root.dependencies ?? {}),
  logLevel: 'warning',
});
