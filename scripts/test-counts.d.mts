export interface VitestJsonReport {
  numPassedTests?: number;
  numFailedTests?: number;
  testResults?: Array<{ status: string; assertionResults?: Array<{ status: string }> }>;
}

export interface TestCounts {
  passed: number;
  failed: number;
}

export function countResults(report: VitestJsonReport, extra?: { unhandledErrors?: number }): TestCounts;
export function formatCounts(counts: TestCounts): string;
