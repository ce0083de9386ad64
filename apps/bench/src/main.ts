/**
 * `npm run bench`: the composition root of the benchmark. Parses the command line, runs the bench (see bench.ts)
 * and writes the report; SIGINT/SIGTERM stop every process it started before exiting.
 */
import { join, relative } from 'node:path';
import { Bench } from './bench';
import { parseCommandLine, USAGE, UsageError } from './cli';
import { Progress } from './progress';
import { summarize } from './report/summary';
import { writeReport } from './report/write';
import { REPO_ROOT } from './targets/server-process';

const argv = process.argv.slice(2);
let options: ReturnType<typeof parseCommandLine>;
try {
  options = parseCommandLine(argv);
} catch (error) {
  if (!(error instanceof UsageError || error instanceof TypeError)) throw error;
  process.stderr.write(`bench: ${error.message}\n\n${USAGE}\n`);
  process.exit(2);
}
if (!options) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const progress = new Progress();
const bench = new Bench(options, progress);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // `on`, not `once`: a second Ctrl-C must not kill the bench before it has stopped its (detached) servers.
  process.on(signal, () => {
    if (stopping) return progress.line(`${signal}: still stopping the servers`);
    stopping = true;
    progress.line(`${signal}: stopping every server the bench started`);
    void bench.abort().finally(() => process.exit(130));
  });
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const resultsRoot = join(REPO_ROOT, 'bench', 'results');
const outDir = options.outDir ?? join(resultsRoot, stamp);
try {
  const results = await bench.run(`npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`);
  const written = writeReport(results, outDir, options.outDir ? undefined : join(resultsRoot, 'latest.md'));
  const { problems } = summarize(results);
  const shown = relative(process.cwd(), written.dir);
  progress.line(
    `results in ${shown.startsWith('..') ? written.dir : shown}: results.json, results.md, chart.svg`,
  );
  for (const problem of problems) progress.line(`problem: ${problem}`);
  // Lost or duplicated deliveries are a failure of the system under test, not a figure: say so in the exit code.
  process.exit(problems.length > 0 ? 1 : 0);
} catch (error) {
  progress.line(`failed: ${(error as Error).stack ?? error}`);
  process.exit(1);
}
