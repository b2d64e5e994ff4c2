import { describe, expect, it } from 'vitest';
import type { DashboardRun } from './protocol.js';
import { percentile, runStats } from './run-stats.js';

const run = (status: DashboardRun['status'], duration?: number): DashboardRun => ({
  id: String(Math.random()),
  taskName: 'a',
  status,
  ...(duration === undefined ? {} : { startedAt: 1000, endedAt: 1000 + duration }),
});

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, index) => index + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 95)).toBe(95);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeUndefined();
  });
});

describe('runStats', () => {
  it('counts outcomes, the success rate of finished runs and their duration percentiles', () => {
    const stats = runStats([
      run('completed', 100),
      run('completed', 300),
      run('failed', 200),
      run('cancelled', 50),
      run('skipped'),
      run('running'),
    ]);
    expect(stats).toMatchObject({ finished: 4, completed: 2, failed: 1, cancelled: 1, skipped: 1, successRate: 0.5 });
    expect(stats.durations).toEqual([100, 300, 200, 50]);
    expect(stats.p50).toBe(100);
    expect(stats.p95).toBe(300);
  });

  it('has no rate or percentiles before a run has finished', () => {
    expect(runStats([run('running')])).toMatchObject({ successRate: undefined, p50: undefined, p95: undefined });
  });
});
