import { describe, expect, it } from 'vitest';
import type { DashboardEvent } from './protocol.js';
import { RunHistory } from './run-history.js';

const event = (type: DashboardEvent['type'], taskName: string, timestamp: number, fields: Partial<DashboardEvent> = {}) =>
  ({ type, taskName, timestamp, ...fields }) as DashboardEvent;

describe('RunHistory', () => {
  describe('add', () => {
    it('turns started and completed into one completed run, and failed into a failed one', () => {
      const history = new RunHistory();
      history.add(event('started', 'a', 10));
      history.add(event('step', 'a', 12, { stepName: 'x' }));
      history.add(event('completed', 'a', 20));
      history.add(event('started', 'a', 30));
      history.add(event('retry', 'a', 31, { attempt: 1, error: 'flaky' }));
      history.add(event('failed', 'a', 40, { error: 'boom' }));
      expect(history.runsOf('a')).toEqual([
        { id: '1', taskName: 'a', status: 'completed', startedAt: 10, endedAt: 20 },
        { id: '2', taskName: 'a', status: 'failed', startedAt: 30, endedAt: 40, attempt: 1, error: 'boom' },
      ]);
    });

    it('tells a cancelled run (aborted or cancelled) from a failed one', () => {
      const history = new RunHistory();
      history.add(event('started', 'a', 1));
      history.add(event('failed', 'a', 2, { error: 'Task "a" was aborted' }));
      expect(history.runsOf('a')[0]!.status).toBe('cancelled');
    });

    it('keeps the wait of a queued trigger, with its key and the group cooldown', () => {
      const history = new RunHistory({ cooldownOf: (group) => (group === 'per-domain' ? 2500 : undefined) });
      history.add(event('queued', 'a', 100, { constraintGroup: 'per-domain', constraintKey: 'acme.com' }));
      expect(history.runsOf('a')[0]).toMatchObject({ status: 'queued', queuedAt: 100 });
      history.add(event('started', 'a', 3000));
      history.add(event('completed', 'a', 3100));
      expect(history.runsOf('a')).toEqual([
        {
          id: '1',
          taskName: 'a',
          status: 'completed',
          queuedAt: 100,
          waitedOn: 'per-domain:acme.com',
          cooldownMs: 2500,
          startedAt: 3000,
          endedAt: 3100,
        },
      ]);
    });

    it('ends a waiting trigger refused by shouldExecute as skipped, and records a skipped tick on its own', () => {
      const history = new RunHistory();
      history.add(event('queued', 'a', 1, { constraintGroup: 'g', constraintKey: 'k' }));
      history.add(event('skipped', 'a', 5, { reason: 'shouldExecute returned false' }));
      history.add(event('skipped', 'a', 9, { reason: 'overlap', scheduledTime: 8 }));
      expect(history.runsOf('a').map((run) => [run.status, run.queuedAt, run.endedAt, run.tick])).toEqual([
        ['skipped', 1, 5, undefined],
        ['skipped', undefined, 9, 8],
      ]);
    });

    it('keeps two overlapping runs as two runs', () => {
      const history = new RunHistory();
      history.add(event('started', 'a', 1));
      history.add(event('started', 'a', 2));
      history.add(event('completed', 'a', 5));
      history.add(event('completed', 'a', 6));
      const [first, second] = history.runsOf('a');
      expect([first!.startedAt, first!.endedAt, second!.startedAt, second!.endedAt]).toEqual([1, 5, 2, 6]);
    });

    it('tags runs with the instance of their events', () => {
      const history = new RunHistory();
      history.add(event('started', 'a', 1, { instanceId: 'node-1' }));
      expect(history.runsOf('a')[0]).toMatchObject({ id: 'node-1:1', instanceId: 'node-1' });
    });
  });

  describe('limits', () => {
    it('keeps the newest runsPerTask runs of each task', () => {
      const history = new RunHistory({ runsPerTask: 3 });
      for (let index = 0; index < 500; index++) {
        history.add(event('started', 'a', index));
        history.add(event('completed', 'a', index));
      }
      expect(history.runsOf('a').map((run) => run.startedAt)).toEqual([497, 498, 499]);
      expect(history.size).toBe(3);
    });

    it('keeps at most maxRuns over all tasks, dropping the oldest first', () => {
      const history = new RunHistory({ runsPerTask: 10, maxRuns: 4 });
      for (let index = 0; index < 6; index++) {
        history.add(event('started', index % 2 === 0 ? 'even' : 'odd', index));
        history.add(event('completed', index % 2 === 0 ? 'even' : 'odd', index));
      }
      expect(history.size).toBe(4);
      expect(history.runs().map((run) => run.startedAt).sort()).toEqual([2, 3, 4, 5]);
      for (let index = 6; index < 5000; index++) history.add(event('started', `t${index}`, index));
      expect(history.size).toBe(4);
      expect(history.runs().map((run) => run.startedAt)).toEqual([4996, 4997, 4998, 4999]);
    });

    it('keeps nothing with runsPerTask 0', () => {
      const history = new RunHistory({ runsPerTask: 0 });
      history.add(event('started', 'a', 1));
      expect(history.size).toBe(0);
    });

    it('rejects bad limits with a TypeError naming them', () => {
      expect(() => new RunHistory({ runsPerTask: 1.5 })).toThrow(
        new TypeError('Expected `runsPerTask` to be a non-negative integer, got `1.5` (number)'),
      );
      expect(() => new RunHistory({ maxRuns: -1 })).toThrow(/`maxRuns`/);
    });
  });

  describe('takeChanges', () => {
    it('returns copies of the runs that changed since the last call, once', () => {
      const history = new RunHistory();
      history.add(event('started', 'a', 1));
      const [started] = history.takeChanges();
      expect(started).toMatchObject({ status: 'running' });
      history.add(event('completed', 'a', 2));
      expect(history.takeChanges()).toEqual([expect.objectContaining({ status: 'completed' })]);
      expect(started!.status).toBe('running');
      expect(history.takeChanges()).toEqual([]);
    });
  });

  describe('memory', () => {
    it('stays within a few hundred bytes per run (figure printed for BENCHMARKS.md)', async () => {
      const { setFlagsFromString } = await import('node:v8');
      const { runInNewContext } = await import('node:vm');
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      const runs = 20_000;
      gc();
      const before = process.memoryUsage().heapUsed;
      const history = new RunHistory({ runsPerTask: 200, maxRuns: runs });
      for (let index = 0; index < runs; index++) {
        const name = `task-${index % 100}`;
        history.add(event('started', name, 1_700_000_000_000 + index));
        history.add(event('completed', name, 1_700_000_000_050 + index));
      }
      history.takeChanges();
      gc();
      const bytesPerRun = (process.memoryUsage().heapUsed - before) / runs;
      console.log(`[dashboard memory] run history: ${bytesPerRun.toFixed(0)} bytes per run (${runs} runs kept)`);
      expect(history.size).toBe(runs);
      expect(bytesPerRun).toBeLessThan(400);
    });
  });
});
