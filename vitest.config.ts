import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['apps/**/src/**/*.test.ts', 'packages/**/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: [
      'default',
      ['json', { outputFile: 'reports/vitest.json' }],
      // The security suite's table of what it tried and what it cost (test/support/security-watch.ts).
      './test/support/security-reporter.ts',
    ],
  },
});
