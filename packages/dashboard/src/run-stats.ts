import type { DashboardRun } from './protocol.js';

/** What a task's history panel shows. */
export interface RunStats {
  /** Runs that ended (completed, failed or cancelled). */
  finished: number;
  completed: number;
  failed: number;
  cancelled: number;
  skipped: number;
  /** `completed / finished`, 0–1; `undefined` before the first finished run. */
  successRate: number | undefined;
  /** Median duration of finished runs, in ms. */
  p50: number | undefined;
  /** 95th percentile duration of finished runs, in ms. */
  p95: number | undefined;
  /** Durations of the finished runs, oldest first (for a sparkline). */
  durations: number[];
}

/** The duration of a run that has started and ended, in ms. */
export function runDuration(run: DashboardRun): number | undefined {
  if (run.startedAt === undefined || run.endedAt === undefined) return undefined;
  return Math.max(0, run.endedAt - run.startedAt);
}

/** The nearest-rank percentile (0–100) of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Success rate and duration percentiles of a task's runs (oldest first). */
export function runStats(runs: readonly DashboardRun[]): RunStats {
  const stats: RunStats = {
    finished: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    skipped: 0,
    successRate: undefined,
    p50: undefined,
    p95: undefined,
    durations: [],
  };
  for (const run of runs) {
    if (run.status === 'skipped') stats.skipped++;
    if (run.status !== 'completed' && run.status !== 'failed' && run.status !== 'cancelled') continue;
    stats[run.status]++;
    stats.finished++;
    const duration = runDuration(run);
    if (duration !== undefined) stats.durations.push(duration);
  }
  if (stats.finished > 0) stats.successRate = stats.completed / stats.finished;
  const sorted = [...stats.durations].sort((a, b) => a - b);
  stats.p50 = percentile(sorted, 50);
  stats.p95 = percentile(sorted, 95);
  return stats;
}
