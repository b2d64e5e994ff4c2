import { describe, expect, it } from 'vitest';
import { formatReport, runChaos } from './chaos.js';
import { redisServerInstalled } from './redis-server.js';

/** About a minute on CI; `TASKBUFFER_SOAK_SECONDS=600` (what `pnpm soak` sets) for a long run. */
const seconds = Number(process.env.TASKBUFFER_SOAK_SECONDS ?? 60);

describe.skipIf(!redisServerInstalled)('RedisCoordinator in a cluster of processes under faults', () => {
  describe('runChaos', () => {
    it(
      'runs every tick once outside fault windows and never twice, with 5 workers, Redis restarts, kills, resets, a blackhole, a failover and paused or killed workers',
      async () => {
        const report = await runChaos({ seconds, workers: 5, log: (line) => console.log(`[chaos] ${line}`) });
        console.log(formatReport(report));
        for (const line of report.logs) {
          console.log(`[chaos] ${new Date(line.at).toISOString().slice(11, 23)} ${line.worker} ${line.level}: ${line.message}`);
        }
        expect(report.faults.map((fault) => fault.kind)).toEqual(
          expect.arrayContaining([
            'redis-restart',
            'redis-kill-restart',
            'connection-reset',
            'blackhole-3s',
            'worker-pause-3s',
            'worker-kill',
            'failover',
          ]),
        );
        expect(report.expectedTicks).toBeGreaterThan(seconds);
        expect(report.duplicates).toEqual([]);
        expect(report.missedOutside).toEqual([]);
        expect(report.unclaimedRuns).toBe(0);
        expect(report.fenceRegressions).toBe(0);
        for (const recovery of report.recoveries) expect(recovery.ms).toBeLessThan(2000);
        // One warning per outage at most: never one per skipped tick.
        const redisFaults = report.faults.filter((fault) => fault.redisSide).length;
        for (const count of Object.values(report.warningsPerWorker)) expect(count).toBeLessThanOrEqual(redisFaults);
      },
      (seconds + 150) * 1000,
    );
  });
});
