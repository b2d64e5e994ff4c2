import { describe, expect, it } from 'vitest';
import { InMemoryCoordinator, type IDistributedTaskRequest } from './distributed-coordination.js';
import { describeCoordinatorConformance } from './testing/index.js';

const shared = new InMemoryCoordinator();

// Instances of one process share one InMemoryCoordinator.
describeCoordinatorConformance('InMemoryCoordinator', {
  create: (count) => Array.from({ length: count }, () => shared),
});

describe('InMemoryCoordinator', () => {
  const claim = (tick: number, submitterId = 'a'): IDistributedTaskRequest => ({
    submitterId,
    requestResponseId: `${submitterId}:job:${tick}`,
    taskName: 'job',
    taskVersion: '1',
    taskExecutionTime: tick,
    taskExecutionTimeout: 0,
    taskExecutionParallel: 1,
    status: 'requesting',
  });

  describe('fireDistributedTaskRequest', () => {
    it('keeps memory flat over many ticks', async () => {
      const coordinator = new InMemoryCoordinator();
      for (let tick = 0; tick < 2_000; tick++) {
        await coordinator.fireDistributedTaskRequest(claim(tick * 1000, 'a'));
        await coordinator.fireDistributedTaskRequest(claim(tick * 1000, 'b'));
        await coordinator.updateDistributedTaskRequest({ ...claim(tick * 1000, 'a'), status: 'succeeded' });
      }
      expect(coordinator.getOutcome('a:job:0')).toBeUndefined();
      expect(coordinator.getOutcome('a:job:1999000')).toBe('succeeded');
    });

    it('hands out growing fencing numbers as ranks', async () => {
      const coordinator = new InMemoryCoordinator();
      const first = await coordinator.fireDistributedTaskRequest(claim(1000));
      const second = await coordinator.fireDistributedTaskRequest(claim(2000));
      expect(second.rank).toBeGreaterThan(first.rank);
    });
  });

  describe('updateDistributedTaskRequest', () => {
    it('ignores the outcome of a request that was not granted', async () => {
      const coordinator = new InMemoryCoordinator();
      await coordinator.fireDistributedTaskRequest(claim(1000, 'a'));
      await coordinator.fireDistributedTaskRequest(claim(1000, 'b'));
      await coordinator.updateDistributedTaskRequest({ ...claim(1000, 'b'), status: 'failed' });
      expect(coordinator.getOutcome('b:job:1000')).toBeUndefined();
    });
  });
});
