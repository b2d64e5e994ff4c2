import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { countResults, formatCounts } from './test-counts.mjs';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));
// vitest's JSON report of `vitest run --root scripts/fixtures/mixed` (times zeroed,
// failure messages cut to their first line): 6 tests passed, 1 failed (two
// describe blocks deep), 1 todo; one file fails to load, one fails in a hook.
const mixedReport = JSON.parse(readFileSync(new URL('./fixtures/vitest-report-mixed.json', import.meta.url), 'utf8'));

describe('countResults', () => {
  it('counts passed and failed tests as vitest does, not describe blocks', () => {
    // The report counts 5 failed suites: 3 files and the 2 describe blocks around the failed test.
    expect(mixedReport.numFailedTestSuites).toBe(5);
    expect(countResults(mixedReport)).toEqual({ passed: 6, failed: 3 });
  });

  it('counts a file that failed to load, or failed in a hook, once', () => {
    const loadError = mixedReport.testResults.find((file: { name: string }) => file.name.endsWith('load-error.test.ts'));
    const hookError = mixedReport.testResults.find((file: { name: string }) => file.name.endsWith('hook-error.test.ts'));
    expect(countResults({ numPassedTests: 0, numFailedTests: 0, testResults: [loadError] })).toEqual({ passed: 0, failed: 1 });
    expect(countResults({ numPassedTests: 1, numFailedTests: 0, testResults: [hookError] })).toEqual({ passed: 1, failed: 1 });
  });

  it('counts one failed test in a failed file once', () => {
    const report = {
      numPassedTests: 0,
      numFailedTests: 1,
      numFailedTestSuites: 3,
      testResults: [{ status: 'failed', assertionResults: [{ status: 'failed' }] }],
    };
    expect(countResults(report)).toEqual({ passed: 0, failed: 1 });
  });

  it('adds the errors vitest reported outside any test', () => {
    expect(countResults(mixedReport, { unhandledErrors: 1 })).toEqual({ passed: 6, failed: 4 });
  });

  it('counts nothing as failed in a clean run', () => {
    const report = {
      numPassedTests: 2,
      numFailedTests: 0,
      numFailedTestSuites: 0,
      testResults: [{ status: 'passed', assertionResults: [{ status: 'passed' }, { status: 'skipped' }, { status: 'passed' }] }],
    };
    expect(countResults(report)).toEqual({ passed: 2, failed: 0 });
    expect(formatCounts(countResults(report))).toBe('2 passed, 0 failed');
  });
});

describe('run-tests.mjs', () => {
  // It runs a whole vitest of its own: slow on a busy machine.
  it("ends with vitest's own counts and fails the run", { timeout: 180_000 }, async () => {
    // A nested vitest must not think it runs inside this one.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'TEST'));
    const run = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['scripts/run-tests.mjs', '--root', 'scripts/fixtures/mixed'],
        { cwd: repositoryRoot, env: { ...env, FORCE_COLOR: '0', NO_COLOR: '1' }, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
        (_error, stdout, stderr) => resolve({ status: child.exitCode, stdout, stderr }),
      );
    });
    const output = `${run.stdout}\n${run.stderr}`;
    // vitest's summary of the same run: 1 failed | 6 passed | 1 todo, and 1 error outside the tests.
    expect(output).toMatch(/Tests\s+1 failed \| 6 passed \| 1 todo \(8\)/);
    expect(output).toMatch(/Errors\s+1 error/);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('6 passed, 4 failed');
    expect(run.status).toBe(1);
  });
});
