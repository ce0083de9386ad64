// @ts-check
/**
 * Mutation testing (issue #11): `npm run test:mutation`. Stryker copies the tree to `.stryker-tmp/`, plants one
 * small bug (a mutant) at a time in the files below, and runs the vitest tests that cover it; a mutant no test
 * notices "survives" and shows a hole. Reports land in `reports/mutation/` (HTML and JSON).
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  // Its own vitest config: the unit tests plus a fast part of test/, and `@chorus/*` aliased to the sandbox's
  // copies (through node_modules they would resolve to the unmutated originals). See that file.
  vitest: { configFile: 'stryker.config.vitest.mjs', related: true },
  plugins: ['@stryker-mutator/vitest-runner'],
  coverageAnalysis: 'perTest',
  mutate: [
    // The delivery path first: append, sequencer, resume/replay, dedupe and the outbox's order.
    'packages/client/src/outbox.ts',
    'packages/client/src/room-sequence.ts',
    'apps/gateway/src/chat/room-feed.ts',
    'apps/gateway/src/chat/message-store.memory.ts',
  ],
  // Each mutant runs alone: the machine has two cores shared with other engineers' benchmarks and browser
  // tests, and several suites start their own redis-server; more workers would only make timings noisier.
  concurrency: 1,
  // Results of unchanged files (and of mutants whose covering tests did not change) are reused.
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  reporters: ['html', 'json', 'clear-text', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  // Stryker rewrites `extends`/`references` of this tsconfig in the sandbox through the TypeScript JS API, which
  // TypeScript 7 (the native compiler) no longer ships; the root tsconfig has neither, and vitest does not read
  // it, so point Stryker at a file that does not exist and it leaves tsconfigs alone.
  tsconfigFile: 'tsconfig.stryker-leaves-alone.json',
  cleanTempDir: 'always',
  // Many tests wait on conditions with deadlines; a mutant that makes one loop forever is a timeout (killed).
  timeoutMS: 10_000,
  timeoutFactor: 2,
  thresholds: { high: 90, low: 80, break: null },
};
