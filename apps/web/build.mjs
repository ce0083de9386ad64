// Builds the chat page into dist/: src/main.ts bundled to app.js and src/style.css (with its @imports) to
// style.css, each with a source map, plus index.html as it is; likewise the operators' cluster page
// (src/admin/ to admin.js and admin.css, plus admin.html). The gateway serves dist/ at `/` under a CSP
// that allows no inline scripts or styles.
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');

await mkdir(dist, { recursive: true });
await build({
  entryPoints: [
    { in: join(here, 'src/main.ts'), out: 'app' },
    { in: join(here, 'src/style.css'), out: 'style' },
    { in: join(here, 'src/admin/main.ts'), out: 'admin' },
    { in: join(here, 'src/admin/admin.css'), out: 'admin' },
  ],
  outdir: dist,
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: ['es2022', 'chrome111', 'firefox113', 'safari16.4'],
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
await copyFile(join(here, 'index.html'), join(dist, 'index.html'));
await copyFile(join(here, 'admin.html'), join(dist, 'admin.html'));
console.log(`web: built ${dist}`);
