import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  AbstractDistributedCoordinator,
  IDistributedTaskRequest,
} from '../distributed-coordination.js';

export interface CoordinatorConformanceOptions {
  /**
   * Makes `count` coordinators that share one decision space (the instances of
   * one cluster). Called before every test.
   */
  create(count: number): Promise<AbstractDistributedCoordinator[]> | AbstractDistributedCoordinator[];
  /** Called after every test with what `create` returned. */
  destroy?(coordinators: AbstractDistributedCoordinator[]): Promise<void> | void;
}

let sequence = 0;

function request(submitterId: string, taskName: string, tick: number): IDistributedTaskRequest {
  return {
    submitterId,
    requestResponseId: `${submitterId}:${taskName}:${tick}`,
    taskName,
    taskVersion: '1',
    taskExecutionTime: tick,
    taskExecutionTimeout: 0,
    taskExecutionParallel: 1,
    status: 'requesting',
  };
}

/**
 * The behaviour every distributed coordinator must show, as a vitest suite.
 * Run it against each implementation.
 */
export function describeCoordinatorConformance(name: string, options: CoordinatorConformanceOptions): void {
  describe(`${name} (coordinator conformance)`, () => {
    let coordinators: AbstractDistributedCoordinator[] = [];
    let task = '';

    beforeEach(async () => {
      coordinators = await options.create(3);
      for (const coordinator of coordinators) await coordinator.start();
      task = `conformance-task-${++sequence}-${Math.random().toString(36).slice(2)}`;
    });

    afterEach(async () => {
      for (const coordinator of coordinators) await coordinator.stop();
      await options.destroy?.(coordinators);
    });

    it('grants one tick to exactly one of several instances', async () => {
      const tick = Math.floor(Date.now() / 1000) * 1000;
      const results = await Promise.all(
        coordinators.map((coordinator, index) => coordinator.fireDistributedTaskRequest(request(`i${index}`, task, tick))),
      );
      expect(results.filter((result) => result.shouldTrigger)).toHaveLength(1);
      for (const [index, result] of results.entries()) {
        expect(result.submitterId).toBe(`i${index}`);
        expect(result.requestResponseId).toBe(`i${index}:${task}:${tick}`);
        expect(result.considered).toBe(true);
      }
    });

    it('grants every new tick once', async () => {
      const base = Math.floor(Date.now() / 1000) * 1000;
      for (let offset = 0; offset < 3; offset++) {
        const tick = base + offset * 1000;
        const results = await Promise.all(
          coordinators.map((coordinator, index) => coordinator.fireDistributedTaskRequest(request(`i${index}`, task, tick))),
        );
        expect(results.filter((result) => result.shouldTrigger)).toHaveLength(1);
      }
    });

    it('gives a retried request the same answer', async () => {
      const tick = Math.floor(Date.now() / 1000) * 1000;
      const [first, second] = coordinators;
      const granted = await first!.fireDistributedTaskRequest(request('i0', task, tick));
      const refused = await second!.fireDistributedTaskRequest(request('i1', task, tick));
      expect(granted.shouldTrigger).toBe(true);
      expect(refused.shouldTrigger).toBe(false);
      expect((await first!.fireDistributedTaskRequest(request('i0', task, tick))).shouldTrigger).toBe(true);
      expect((await second!.fireDistributedTaskRequest(request('i1', task, tick))).shouldTrigger).toBe(false);
    });

    it('refuses a tick older than one already granted', async () => {
      const tick = Math.floor(Date.now() / 1000) * 1000;
      const [first, second] = coordinators;
      expect((await first!.fireDistributedTaskRequest(request('i0', task, tick))).shouldTrigger).toBe(true);
      expect((await second!.fireDistributedTaskRequest(request('i1', task, tick - 1000))).shouldTrigger).toBe(false);
    });

    it('decides each task on its own', async () => {
      const tick = Math.floor(Date.now() / 1000) * 1000;
      const [first] = coordinators;
      expect((await first!.fireDistributedTaskRequest(request('i0', `${task}-a`, tick))).shouldTrigger).toBe(true);
      expect((await first!.fireDistributedTaskRequest(request('i0', `${task}-b`, tick))).shouldTrigger).toBe(true);
    });

    it('keeps refusing an instance that retries its refused request', async () => {
      const tick = Math.floor(Date.now() / 1000) * 1000;
      const [first, second] = coordinators;
      expect((await first!.fireDistributedTaskRequest(request('i0', task, tick))).shouldTrigger).toBe(true);
      for (let attempt = 0; attempt < 3; attempt++) {
        expect((await second!.fireDistributedTaskRequest(request('i1', task, tick))).shouldTrigger).toBe(false);
      }
    });

    it('accepts an outcome for a request that was never granted', async () => {
      const tick = Math.floor(Date.now() / 1000) * 1000;
      const [first, second] = coordinators;
      expect((await first!.fireDistributedTaskRequest(request('i0', task, tick))).shouldTrigger).toBe(true);
      const refused = request('i1', task, tick);
      expect((await second!.fireDistributedTaskRequest(refused)).shouldTrigger).toBe(false);
      await expect(second!.updateDistributedTaskRequest({ ...refused, status: 'gotRejected' })).resolves.toBeUndefined();
      expect((await second!.fireDistributedTaskRequest(request('i1', task, tick))).shouldTrigger).toBe(false);
    });

    it('hands a fencing number that grows with every grant, when it gives one', async () => {
      const base = Math.floor(Date.now() / 1000) * 1000;
      const [first] = coordinators;
      const one = await first!.fireDistributedTaskRequest(request('i0', task, base));
      const two = await first!.fireDistributedTaskRequest(request('i0', task, base + 1000));
      expect(one.shouldTrigger && two.shouldTrigger).toBe(true);
      if (one.fence !== undefined || two.fence !== undefined) {
        expect(two.fence).toBeGreaterThan(one.fence!);
      }
    });

    describe('abandonDistributedTaskRequest', () => {
      it('lets another instance claim a tick its holder handed back before running it', async () => {
        const tick = Math.floor(Date.now() / 1000) * 1000;
        const [first, second, third] = coordinators;
        const claim = request('i0', task, tick);
        const granted = await first!.fireDistributedTaskRequest(claim);
        expect(granted.shouldTrigger).toBe(true);
        expect((await second!.fireDistributedTaskRequest(request('i1', task, tick))).shouldTrigger).toBe(false);
        await first!.abandonDistributedTaskRequest({ ...claim, status: 'cancelled' });
        const regranted = await second!.fireDistributedTaskRequest(request('i1', task, tick));
        expect(regranted.shouldTrigger).toBe(true);
        if (granted.fence !== undefined) expect(regranted.fence).toBeGreaterThan(granted.fence);
        // Handed back once: the new holder keeps it.
        expect((await third!.fireDistributedTaskRequest(request('i2', task, tick))).shouldTrigger).toBe(false);
      });

      it('ignores a hand-back from an instance that does not hold the tick', async () => {
        const tick = Math.floor(Date.now() / 1000) * 1000;
        const [first, second, third] = coordinators;
        expect((await first!.fireDistributedTaskRequest(request('i0', task, tick))).shouldTrigger).toBe(true);
        const refused = request('i1', task, tick);
        expect((await second!.fireDistributedTaskRequest(refused)).shouldTrigger).toBe(false);
        await second!.abandonDistributedTaskRequest({ ...refused, status: 'cancelled' });
        expect((await third!.fireDistributedTaskRequest(request('i2', task, tick))).shouldTrigger).toBe(false);
      });

      it('ignores a hand-back after the run has recorded its outcome', async () => {
        const tick = Math.floor(Date.now() / 1000) * 1000;
        const [first, second] = coordinators;
        const claim = request('i0', task, tick);
        expect((await first!.fireDistributedTaskRequest(claim)).shouldTrigger).toBe(true);
        await first!.updateDistributedTaskRequest({ ...claim, status: 'succeeded' });
        await first!.abandonDistributedTaskRequest({ ...claim, status: 'cancelled' });
        expect((await second!.fireDistributedTaskRequest(request('i1', task, tick))).shouldTrigger).toBe(false);
      });

      it('ignores a hand-back of a tick that a later one superseded', async () => {
        const tick = Math.floor(Date.now() / 1000) * 1000;
        const [first, second] = coordinators;
        const old = request('i0', task, tick - 1000);
        expect((await first!.fireDistributedTaskRequest(old)).shouldTrigger).toBe(true);
        expect((await second!.fireDistributedTaskRequest(request('i1', task, tick))).shouldTrigger).toBe(true);
        await first!.abandonDistributedTaskRequest({ ...old, status: 'cancelled' });
        expect((await first!.fireDistributedTaskRequest(request('i0', task, tick))).shouldTrigger).toBe(false);
        expect((await second!.fireDistributedTaskRequest(request('i2', task, tick - 1000))).shouldTrigger).toBe(false);
      });
    });

    it('accepts the outcome of a run', async () => {
      const tick = Math.floor(Date.now() / 1000) * 1000;
      const [first] = coordinators;
      const claim = request('i0', task, tick);
      expect((await first!.fireDistributedTaskRequest(claim)).shouldTrigger).toBe(true);
      await expect(first!.updateDistributedTaskRequest({ ...claim, status: 'succeeded' })).resolves.toBeUndefined();
    });
  });
}
