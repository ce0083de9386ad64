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
    // The delivery path first: the SDK's outbox order and dedupe/sequencer, the gateway's sequencer, the resume
    // (replay) part of a join, and the append of the memory store. The Redis store's append, dedupe and trim
    // are Lua in a string (message-store.redis.ts): Stryker cannot mutate inside it; the shared store suite runs
    // it against real Redis all the same.
    'packages/client/src/outbox.ts',
    'packages/client/src/room-sequence.ts',
    'apps/gateway/src/chat/room-feed.ts',
    // Line ranges: `replay`, and the part of `join` that picks, completes and answers the history (move them
    // with the code).
    'apps/gateway/src/rooms/rooms.service.ts:45-74',
    'apps/gateway/src/rooms/rooms.service.ts:140-145',
    'apps/gateway/src/rooms/rooms.service.ts:160-183',
    'apps/gateway/src/chat/message-store.memory.ts',
    // Then the wire contract, the SDK, and the gateway's edges.
    'packages/protocol/src/**/*.ts',
    'packages/client/src/client.ts',
    'apps/gateway/src/limits/*.ts',
    'apps/gateway/src/auth/*.ts',
    'apps/gateway/src/bus/room-bus.memory.ts',
    'apps/gateway/src/socket/*.ts',
    'apps/gateway/src/http/*.ts',
    '!**/*.test.ts',
  ],
  // A static mutant (in code that runs only while a module loads: the schemas, constant tables) needs a fresh
  // module graph and every related test for each mutant, minutes apiece here. They are left out (reported as
  // Ignored, not scored); the schemas' limits are pinned by packages/protocol/src/limits.test.ts and
  // contract.test.ts instead.
  ignoreStatic: true,
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
  timeoutMS: 5_000,
  timeoutFactor: 2,
  thresholds: { high: 90, low: 80, break: null },
};
