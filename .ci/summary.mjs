// Prints "N passed, N failed" from vitest's JSON report, alone on the last line of the CI log.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'reports/vitest.json';
if (!existsSync(file)) {
  console.log('ci: no vitest report (the run stopped before the tests: see type-check or lint output above)');
  console.log('0 passed, 1 failed');
  process.exit(0);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const failedFiles = report.testResults.filter(
  (r) => r.status === 'failed' && r.assertionResults.length === 0,
).length;
const skipped = report.numPendingTests + report.numTodoTests;
if (skipped > 0) console.log(`ci: ${skipped} skipped or todo tests`);
console.log(`${report.numPassedTests} passed, ${report.numFailedTests + failedFiles} failed`);
