// The vitest config Stryker runs (see stryker.config.mjs); `npm test` keeps using vitest.config.ts.
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // Stryker's sandbox links node_modules back to the real tree, where `@chorus/protocol` and `@chorus/client`
    // point at the unmutated sources: resolve them inside the sandbox instead.
    alias: {
      '@chorus/protocol': here('./packages/protocol/src/index.ts'),
      '@chorus/client': here('./packages/client/src/index.ts'),
    },
  },
  test: {
    // Unit tests next to the code (the store suites run on a private redis-server, as in `npm test`); not the
    // integration tests in test/, which start three gateways per test and would cost seconds per mutant.
    include: ['apps/gateway/src/**/*.test.ts', 'packages/*/src/**/*.test.ts'],
    exclude: [...configDefaults.exclude],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
