// Runs every vitest project once and ends with one line for the whole run:
// `N passed, N failed` (see `countResults` in ./test-counts.mjs). Extra
// arguments go to vitest.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countResults, formatCounts } from './test-counts.mjs';

const reporter = fileURLToPath(new URL('./unhandled-errors-reporter.mjs', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'taskbuffer-test-run-'));
const results = join(directory, 'vitest-results.json');
const errors = join(directory, 'unhandled-errors.json');
const run = spawnSync(
  'pnpm',
  [
    'exec',
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${results}`,
    `--reporter=${reporter}`,
    ...process.argv.slice(2),
  ],
  {
    stdio: 'inherit',
    env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '0', TASKBUFFER_UNHANDLED_ERRORS_FILE: errors },
  },
);

let counts = { passed: 0, failed: 1 };
if (existsSync(results)) {
  const unhandledErrors = existsSync(errors) ? JSON.parse(readFileSync(errors, 'utf8')).unhandledErrors : 0;
  counts = countResults(JSON.parse(readFileSync(results, 'utf8')), { unhandledErrors });
}
rmSync(directory, { recursive: true, force: true });
console.log(formatCounts(counts));
process.exit(run.status === 0 && counts.failed === 0 && counts.passed > 0 ? 0 : 1);
