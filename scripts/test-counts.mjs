// The closing line of `pnpm test`: vitest's own counts for the whole run.

/**
 * Counts a run from vitest's JSON report (`--reporter=json`).
 *
 * - `passed`: tests that passed (skipped and todo tests are neither).
 * - `failed`: tests that failed, plus each test file that failed without a
 *   failed test of its own (it failed to load or collect, or a hook failed),
 *   plus the errors vitest reported outside any test (`Errors` in its
 *   summary: an unhandled rejection, a type error outside a type test), which
 *   the JSON report does not list.
 *
 * Describe blocks are not counted: the report's `numFailedTestSuites` counts
 * every failed describe block and file, so one failing test two describe
 * blocks deep would count four times.
 *
 * @param {{ numPassedTests?: number, numFailedTests?: number, testResults?: Array<{ status: string, assertionResults?: Array<{ status: string }> }> }} report
 * @param {{ unhandledErrors?: number }} [extra]
 * @returns {{ passed: number, failed: number }}
 */
export function countResults(report, { unhandledErrors = 0 } = {}) {
  const failedFilesWithoutFailedTests = (report.testResults ?? []).filter(
    (file) => file.status === 'failed' && !(file.assertionResults ?? []).some((test) => test.status === 'failed'),
  ).length;
  return {
    passed: report.numPassedTests ?? 0,
    failed: (report.numFailedTests ?? 0) + failedFilesWithoutFailedTests + unhandledErrors,
  };
}

/** The line CI reads. */
export function formatCounts({ passed, failed }) {
  return `${passed} passed, ${failed} failed`;
}
