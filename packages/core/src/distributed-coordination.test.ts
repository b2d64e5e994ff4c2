import { describe, expect, it } from 'vitest';
import { AbstractDistributedCoordinator, InMemoryCoordinator, type IDistributedTaskRequest } from './distributed-coordination.js';
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

  describe('abandonDistributedTaskRequest', () => {
    it('records a handed-back tick as cancelled until another instance claims it', async () => {
      const coordinator = new InMemoryCoordinator();
      await coordinator.fireDistributedTaskRequest(claim(1000, 'a'));
      await coordinator.abandonDistributedTaskRequest({ ...claim(1000, 'a'), status: 'cancelled' });
      expect(coordinator.getOutcome('a:job:1000')).toBe('cancelled');
      const regranted = await coordinator.fireDistributedTaskRequest(claim(1000, 'b'));
      expect(regranted.shouldTrigger).toBe(true);
      await coordinator.updateDistributedTaskRequest({ ...claim(1000, 'b'), status: 'succeeded' });
      expect(coordinator.getOutcome('b:job:1000')).toBe('succeeded');
    });
  });
});

describe('AbstractDistributedCoordinator', () => {
  describe('abandonDistributedTaskRequest', () => {
    it('records the tick as cancelled in a coordinator that does not implement it', async () => {
      const recorded: IDistributedTaskRequest[] = [];
      class Recording extends AbstractDistributedCoordinator {
        async fireDistributedTaskRequest(request: IDistributedTaskRequest) {
          return { submitterId: request.submitterId, requestResponseId: request.requestResponseId, considered: true, rank: 1, reason: 'claimed', shouldTrigger: true };
        }
        async updateDistributedTaskRequest(request: IDistributedTaskRequest) {
          recorded.push(request);
        }
        async start() {}
        async stop() {}
      }
      const request: IDistributedTaskRequest = {
        submitterId: 'a',
        requestResponseId: 'a:job:1000',
        taskName: 'job',
        taskVersion: '1',
        taskExecutionTime: 1000,
        taskExecutionTimeout: 0,
        taskExecutionParallel: 1,
        status: 'requesting',
      };
      await new Recording().abandonDistributedTaskRequest(request);
      expect(recorded).toEqual([{ ...request, status: 'cancelled' }]);
    });
  });
});
