import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { IDistributedTaskRequest } from '@taskbuffer/core';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer, redisServerInstalled } from '../test/redis-server.js';
import { RedisCoordinator, type RedisCoordinatorOptions } from './redis-coordinator.js';

let sequence = 0;
const uniqueTask = () => `task-${++sequence}-${Math.random().toString(36).slice(2, 8)}`;

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

const quiet = { warn() {}, info() {} };

describe.skipIf(!redisServerInstalled)('RedisCoordinator when Redis loses data', () => {
  let server: RedisServer;
  const started: RedisCoordinator[] = [];

  function coordinator(options: RedisCoordinatorOptions = {}): RedisCoordinator {
    // A wide grace period: every tick of these tests lies a few seconds around now.
    const created = new RedisCoordinator({ url: server.url, logger: quiet, gracePeriod: 10_000, ...options });
    started.push(created);
    return created;
  }

  /** Waits until a restarted server answers commands (not LOADING) through the coordinator. */
  async function claimUntilAnswered(instance: RedisCoordinator, claim: IDistributedTaskRequest) {
    for (;;) {
      const result = await instance.fireDistributedTaskRequest(claim);
      if (result.decision !== 'unavailable') return result;
    }
  }

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((created) => created.stop()));
    if (!server.running) await server.launch();
  });

  afterAll(async () => {
    await server?.stop();
  });

  describe('fences', () => {
    it('keep growing after an empty restart', async () => {
      const instance = coordinator();
      await instance.start();
      const task = uniqueTask();
      const base = Math.floor(Date.now() / 1000) * 1000 - 4000;
      const before: number[] = [];
      for (let offset = 0; offset < 3; offset++) {
        before.push((await instance.fireDistributedTaskRequest(request('a', task, base + offset * 1000))).fence);
      }
      await server.kill('SIGKILL');
      rmSync(join(server.dir, 'dump.rdb'), { force: true });
      await server.launch();
      const after = await claimUntilAnswered(instance, request('a', task, base + 3000));
      expect(after.decision).toBe('claimed');
      expect(after.fence).toBeGreaterThan(Math.max(...before));
      expect((await instance.getTaskState(task))?.fence).toBe(after.fence);
    });

    it('keep growing after Redis restarts on an older snapshot, and repeat for a tick granted a second time', async () => {
      const instance = coordinator();
      await instance.start();
      const admin = createClient({ url: server.url });
      await admin.connect();
      const task = uniqueTask();
      const base = Math.floor(Date.now() / 1000) * 1000 - 5000;
      const fenceOf = new Map<number, number>();
      const claim = async (tick: number) => {
        const result = await claimUntilAnswered(instance, request('a', task, tick));
        expect(result.shouldTrigger).toBe(true);
        return result.fence;
      };
      fenceOf.set(base, await claim(base));
      fenceOf.set(base + 1000, await claim(base + 1000));
      await admin.sendCommand(['SAVE']);
      const snapshot = join(server.dir, 'older.rdb');
      copyFileSync(join(server.dir, 'dump.rdb'), snapshot);
      fenceOf.set(base + 2000, await claim(base + 2000));
      fenceOf.set(base + 3000, await claim(base + 3000));
      await admin.close();

      await server.kill('SIGKILL');
      copyFileSync(snapshot, join(server.dir, 'dump.rdb'));
      await server.launch();
      expect(existsSync(join(server.dir, 'dump.rdb'))).toBe(true);
      // The server came back with the older state: it has forgotten two claims.
      expect((await instance.getTaskState(task))?.lastTick).toBe(base + 1000);

      // A tick the snapshot forgot can be granted again (the README says so);
      // it carries the fence it had, so a downstream check refuses its second writer.
      const again = await instance.fireDistributedTaskRequest(request('b', task, base + 3000));
      expect(again.decision).toBe('claimed');
      expect(again.fence).toBe(fenceOf.get(base + 3000));
      // A new tick gets a fence above every fence handed out before the restore.
      const next = await claim(base + 4000);
      expect(next).toBeGreaterThan(Math.max(...fenceOf.values()));
    });
  });

  describe('identity', () => {
    it('grants a tick to one of two processes that share an instanceId, and repeats it only to that one', async () => {
      const [first, second] = [coordinator(), coordinator()];
      await Promise.all([first.start(), second.start()]);
      const claim = request('same-instance', uniqueTask(), Math.floor(Date.now() / 1000) * 1000);
      const results = await Promise.all([first.fireDistributedTaskRequest(claim), second.fireDistributedTaskRequest(claim)]);
      expect(results.filter((result) => result.shouldTrigger)).toHaveLength(1);
      const winner = results[0]!.shouldTrigger ? first : second;
      const loser = results[0]!.shouldTrigger ? results[1]! : results[0]!;
      expect(loser.decision).toBe('taken');
      expect(loser.reason).toBe(
        'tick already claimed by same-instance in another process with the same instanceId (give each process its own)',
      );
      // The loser retrying (as after a lost reply) is still refused; the winner's retry is a repeat.
      expect((await (winner === first ? second : first).fireDistributedTaskRequest(claim)).decision).toBe('taken');
      expect((await winner.fireDistributedTaskRequest(claim)).decision).toBe('repeat');
    });

    it('does not hand back an old grant for a request id reused for another tick', async () => {
      const instance = coordinator();
      await instance.start();
      const task = uniqueTask();
      const tick = Math.floor(Date.now() / 1000) * 1000;
      const first = await instance.fireDistributedTaskRequest(request('a', task, tick - 1000));
      const reused = await instance.fireDistributedTaskRequest({ ...request('a', task, tick), requestResponseId: first.requestResponseId });
      expect(reused.decision).toBe('claimed');
      expect(reused.fence).toBeGreaterThan(first.fence);
      const stale = await instance.fireDistributedTaskRequest({
        ...request('a', task, tick - 1000),
        requestResponseId: first.requestResponseId,
      });
      expect(stale).toMatchObject({ decision: 'superseded', shouldTrigger: false });
    });
  });
});
