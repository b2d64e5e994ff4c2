import type { IDistributedTaskRequest } from '@taskbuffer/core';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisServer, freePort, redisServerInstalled } from '../test/redis-server.js';
import { TcpProxy } from '../test/tcp-proxy.js';
import { claimScript } from './claim-script.js';
import { RedisCoordinatorError } from './errors.js';
import { RedisCoordinator, type RedisCoordinatorLogger, type RedisCoordinatorOptions } from './redis-coordinator.js';

let sequence = 0;
const uniqueTask = () => `task-${++sequence}-${Math.random().toString(36).slice(2, 8)}`;
const currentTick = () => Math.floor(Date.now() / 1000) * 1000;

function request(submitterId: string, taskName: string, tick: number, status: IDistributedTaskRequest['status'] = 'requesting'): IDistributedTaskRequest {
  return {
    submitterId,
    requestResponseId: `${submitterId}:${taskName}:${tick}`,
    taskName,
    taskVersion: '1',
    taskExecutionTime: tick,
    taskExecutionTimeout: 0,
    taskExecutionParallel: 1,
    status,
  };
}

function recordingLogger() {
  const warnings: string[] = [];
  const infos: string[] = [];
  const logger: RedisCoordinatorLogger = {
    warn: (message) => warnings.push(message),
    info: (message) => infos.push(message),
  };
  return { logger, warnings, infos };
}

describe('RedisCoordinator', () => {
  describe('constructor', () => {
    it('fills in the defaults', () => {
      const coordinator = new RedisCoordinator();
      expect(coordinator.keyPrefix).toBe('taskbuffer:coordinator:');
      expect(coordinator.gracePeriod).toBe(2000);
      expect(coordinator.onUnavailable).toBe('skip');
      expect(coordinator.keyFor('backup')).toBe('taskbuffer:coordinator:backup');
      expect(coordinator.available).toBe(false);
    });

    it('accepts an undefined url (an unset environment variable)', () => {
      expect(() => new RedisCoordinator({ url: undefined })).not.toThrow();
    });

    it.each([
      [{ url: 'http://localhost' }, 'Expected `url` to be a redis:// or rediss:// URL, got `"http://localhost"` (string)'],
      [{ client: {} }, 'Expected `client` to be a node-redis client (createClient(), createCluster() or createSentinel()) or an ioredis client (new Redis(), new Cluster() or new Redis({ sentinels })), got `{}` (object)'],
      [{ gracePeriod: 0 }, 'Expected `gracePeriod` to be a positive integer (ms), got `0` (number)'],
      [{ gracePeriod: 1.5 }, 'Expected `gracePeriod` to be a positive integer (ms), got `1.5` (number)'],
      [{ keyPrefix: 3 }, 'Expected `keyPrefix` to be a string, got `3` (number)'],
      [{ onUnavailable: 'retry' }, "Expected `onUnavailable` to be 'skip' or 'run', got `\"retry\"` (string)"],
      [{ logger: { warn() {} } }, 'Expected `logger` to be an object with `warn` and `info` methods'],
    ])('throws a TypeError for %j', (options, message) => {
      expect(() => new RedisCoordinator(options as unknown as RedisCoordinatorOptions)).toThrow(TypeError);
      expect(() => new RedisCoordinator(options as unknown as RedisCoordinatorOptions)).toThrow(message);
    });

    it('refuses both a url and a client', () => {
      const client = createClient();
      expect(() => new RedisCoordinator({ url: 'redis://127.0.0.1:1', client })).toThrow(
        /Expected only one of `url` and `client`/,
      );
    });
  });

  describe('fireDistributedTaskRequest (not started)', () => {
    it('refuses without throwing before start()', async () => {
      const result = await new RedisCoordinator().fireDistributedTaskRequest(request('a', 'x', currentTick()));
      expect(result).toMatchObject({ shouldTrigger: false, considered: false, decision: 'stopped', submitterId: 'a' });
    });

    it('answers a malformed request with a reason instead of throwing', async () => {
      const result = await new RedisCoordinator().fireDistributedTaskRequest({
        ...request('a', 'x', 0),
        taskExecutionTime: Number.NaN,
      });
      expect(result.decision).toBe('invalid');
      expect(result.shouldTrigger).toBe(false);
      expect(result.reason).toBe('Expected `taskExecutionTime` to be an integer epoch time in ms, got `NaN` (number)');
    });
  });
});

describe.skipIf(!redisServerInstalled)('RedisCoordinator (with a redis-server)', () => {
  let server: RedisServer;
  const started: RedisCoordinator[] = [];

  function coordinator(options: RedisCoordinatorOptions = {}): RedisCoordinator {
    const created = new RedisCoordinator({ url: server.url, logger: recordingLogger().logger, ...options });
    started.push(created);
    return created;
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

  describe('fireDistributedTaskRequest', () => {
    it('grants each tick to exactly one of five instances, with a fence that grows tick by tick', async () => {
      const instances = Array.from({ length: 5 }, () => coordinator());
      await Promise.all(instances.map((instance) => instance.start()));
      const task = uniqueTask();
      const base = Date.now() - 500;
      const fences: number[] = [];
      const ticks: number[] = [];
      for (let offset = 0; offset < 4; offset++) {
        const tick = base + offset * 100;
        const results = await Promise.all(
          instances.map((instance, index) => instance.fireDistributedTaskRequest(request(`i${index}`, task, tick))),
        );
        const granted = results.filter((result) => result.shouldTrigger);
        expect(granted).toHaveLength(1);
        expect(granted[0]!.rank).toBe(granted[0]!.fence);
        fences.push(granted[0]!.fence);
        ticks.push(tick);
        for (const refused of results.filter((result) => !result.shouldTrigger)) {
          expect(refused.decision).toBe('taken');
          expect(refused.reason).toBe(`tick already claimed by ${granted[0]!.submitterId}`);
          expect(refused.considered).toBe(true);
        }
      }
      // The fence of a task's first grant of a tick is the tick in microseconds.
      expect(fences).toEqual(ticks.map((tick) => tick * 1000));
    });

    it('grants a retried request again with the same fence', async () => {
      const instance = coordinator();
      await instance.start();
      const claim = request('a', uniqueTask(), currentTick());
      const first = await instance.fireDistributedTaskRequest(claim);
      const retry = await instance.fireDistributedTaskRequest(claim);
      expect(first).toMatchObject({ shouldTrigger: true, decision: 'claimed' });
      expect(retry).toMatchObject({ shouldTrigger: true, decision: 'repeat', fence: first.fence, reason: first.reason });
    });

    it("refuses a claim that reaches Redis after its tick's grace period, by the server clock", async () => {
      const instance = coordinator({ gracePeriod: 1000 });
      await instance.start();
      const result = await instance.fireDistributedTaskRequest(request('a', uniqueTask(), Date.now() - 5000));
      expect(result).toMatchObject({ shouldTrigger: false, considered: true, decision: 'late' });
      expect(result.reason).toMatch(/^claim arrived \d+ ms after its tick, later than the grace period of 1000 ms$/);
      expect(result.serverTime).toBeGreaterThan(0);
    });

    it('refuses an instance whose clock runs ahead of the server by more than the grace period', async () => {
      const instance = coordinator({ gracePeriod: 1000 });
      await instance.start();
      const result = await instance.fireDistributedTaskRequest(request('a', uniqueTask(), Date.now() + 60_000));
      expect(result.decision).toBe('early');
      expect(result.shouldTrigger).toBe(false);
    });

    it('keeps one small key per task however many ticks are claimed', async () => {
      const prefix = `keys-${sequence}:`;
      const instance = coordinator({ keyPrefix: prefix });
      await instance.start();
      const task = uniqueTask();
      const base = currentTick() - 1000;
      for (let offset = 0; offset < 20; offset++) {
        await instance.fireDistributedTaskRequest(request('a', task, base + offset * 50));
      }
      const client = createClient({ url: server.url });
      await client.connect();
      try {
        expect(await client.keys(`${prefix}*`)).toEqual([instance.keyFor(task)]);
        expect(await client.hLen(instance.keyFor(task))).toBeLessThanOrEqual(10);
      } finally {
        await client.close();
      }
    });

    it('loads its script again after the script cache was flushed', async () => {
      const instance = coordinator();
      await instance.start();
      const task = uniqueTask();
      await instance.fireDistributedTaskRequest(request('a', task, currentTick() - 1000));
      const client = createClient({ url: server.url });
      await client.connect();
      await client.sendCommand(['SCRIPT', 'FLUSH']);
      const result = await instance.fireDistributedTaskRequest(request('a', task, currentTick()));
      expect(result.decision).toBe('claimed');
      expect(await client.sendCommand(['SCRIPT', 'EXISTS', claimScript.sha])).toEqual([1]);
      await client.close();
    });

    it('shares one decision space between node-redis and ioredis clients', async () => {
      const nodeClient = createClient({ url: server.url });
      await nodeClient.connect();
      const ioClient = new Redis(server.port, '127.0.0.1');
      const viaNodeRedis = coordinator({ url: undefined, client: nodeClient });
      const viaIoRedis = coordinator({ url: undefined, client: ioClient });
      await Promise.all([viaNodeRedis.start(), viaIoRedis.start()]);
      const task = uniqueTask();
      const tick = currentTick();
      const [a, b] = await Promise.all([
        viaNodeRedis.fireDistributedTaskRequest(request('node', task, tick)),
        viaIoRedis.fireDistributedTaskRequest(request('io', task, tick)),
      ]);
      expect([a.shouldTrigger, b.shouldTrigger].sort()).toEqual([false, true]);
      const next = await viaIoRedis.fireDistributedTaskRequest(request('io', task, tick + 1000));
      expect(next.reason).toBe(`claimed (fence ${(tick + 1000) * 1000})`);
      expect(next.shouldTrigger).toBe(true);
      expect(next.fence).toBe((tick + 1000) * 1000);
      await viaNodeRedis.stop();
      await viaIoRedis.stop();
      // Clients the user connected stay theirs: stop() leaves them open.
      expect(nodeClient.isOpen).toBe(true);
      expect(ioClient.status).toBe('ready');
      await nodeClient.close();
      await ioClient.quit();
    });

    it('connects a client it was given unconnected, and closes it again on stop()', async () => {
      const client = createClient({ url: server.url });
      const instance = coordinator({ url: undefined, client });
      await instance.start();
      expect(client.isReady).toBe(true);
      expect((await instance.fireDistributedTaskRequest(request('a', uniqueTask(), currentTick()))).shouldTrigger).toBe(true);
      await instance.stop();
      expect(client.isOpen).toBe(false);
    });
  });

  describe('updateDistributedTaskRequest', () => {
    it('records how the run of the latest claim ended', async () => {
      const instance = coordinator();
      await instance.start();
      const task = uniqueTask();
      const claim = request('a', task, currentTick());
      const granted = await instance.fireDistributedTaskRequest(claim);
      await expect(instance.updateDistributedTaskRequest({ ...claim, status: 'failed' })).resolves.toBeUndefined();
      const state = await instance.getTaskState(task);
      expect(state).toMatchObject({
        lastTick: claim.taskExecutionTime,
        owner: 'a',
        requestResponseId: claim.requestResponseId,
        fence: granted.fence,
        status: 'failed',
        failed: 1,
        succeeded: 0,
      });
      expect(state!.endedAt).toBeGreaterThanOrEqual(state!.claimedAt);
    });

    it('does not let a refused or older request overwrite the outcome of the latest claim', async () => {
      const [a, b] = [coordinator(), coordinator()];
      await Promise.all([a.start(), b.start()]);
      const task = uniqueTask();
      const tick = currentTick();
      await a.fireDistributedTaskRequest(request('a', task, tick));
      await b.fireDistributedTaskRequest(request('b', task, tick));
      expect(await b.recordOutcome(request('b', task, tick, 'succeeded'))).toBe('superseded');
      expect(await a.recordOutcome(request('a', task, tick, 'succeeded'))).toBe('recorded');
      expect(await a.recordOutcome(request('a', task, tick, 'failed'))).toBe('conflict');
      expect(await a.recordOutcome(request('a', task, tick, 'requesting'))).toBe('ignored');
      expect((await a.getTaskState(task))?.status).toBe('succeeded');
    });

    it('has no state for a task that was never claimed', async () => {
      const instance = coordinator();
      await instance.start();
      expect(await instance.getTaskState(uniqueTask())).toBeUndefined();
    });
  });

  describe('when Redis is unavailable', () => {
    it('skips ticks, logs one warning per outage, and decides the first tick after Redis returns normally', async () => {
      const { logger, warnings, infos } = recordingLogger();
      const instance = coordinator({ gracePeriod: 400, logger });
      await instance.start();
      expect(instance.available).toBe(true);
      const task = uniqueTask();
      await server.kill('SIGKILL');
      const skipped = [];
      for (let index = 0; index < 4; index++) {
        const started = Date.now();
        const result = await instance.fireDistributedTaskRequest(request('a', task, Date.now()));
        // Each claim gives up within the grace period (generous bound for busy CI).
        expect(Date.now() - started).toBeLessThan(3000);
        skipped.push(result);
      }
      for (const result of skipped) {
        expect(result).toMatchObject({ shouldTrigger: false, considered: false, decision: 'unavailable' });
        expect(result.reason).toMatch(/skipping the tick$/);
      }
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/Redis is unavailable .*scheduled ticks are skipped until it is back/);
      expect(instance.available).toBe(false);

      await server.launch();
      const back = await vi.waitFor(
        async () => {
          const result = await instance.fireDistributedTaskRequest(request('a', task, Date.now()));
          if (result.decision === 'unavailable') throw new Error('not back yet');
          return result;
        },
        { timeout: 8000, interval: 50 },
      );
      expect(back.decision).toBe('claimed');
      expect(warnings).toHaveLength(1);
      expect(infos).toHaveLength(1);
      expect(infos[0]).toMatch(/Redis is available again after \d+ ms; \d+ ticks were skipped meanwhile\./);
    });

    it("runs the tick uncoordinated with onUnavailable: 'run'", async () => {
      const { logger, warnings } = recordingLogger();
      const instance = coordinator({ gracePeriod: 300, logger, onUnavailable: 'run' });
      await instance.start();
      await server.kill('SIGKILL');
      const result = await instance.fireDistributedTaskRequest(request('a', uniqueTask(), Date.now()));
      expect(result).toMatchObject({ shouldTrigger: true, considered: false, decision: 'unavailable', fence: 0 });
      expect(result.reason).toMatch(/running anyway \(onUnavailable: run\)$/);
      expect(warnings[0]).toMatch(/run on every instance, uncoordinated/);
      expect(await instance.recordOutcome(request('a', 'x', Date.now(), 'succeeded'))).toBe('unavailable');
    });

    it('starts without Redis, without throwing, and connects once Redis comes up', async () => {
      const port = await freePort();
      const { logger, warnings } = recordingLogger();
      const instance = coordinator({ url: `redis://127.0.0.1:${port}`, gracePeriod: 300, logger });
      const started = Date.now();
      await expect(instance.start()).resolves.toBeUndefined();
      expect(Date.now() - started).toBeLessThan(3000);
      expect(warnings).toHaveLength(1);
      const refused = await instance.fireDistributedTaskRequest(request('a', uniqueTask(), Date.now()));
      expect(refused.decision).toBe('unavailable');
      // Put a Redis on the port the coordinator keeps dialling.
      const late = await RedisServer.startOn(port);
      try {
        const result = await vi.waitFor(
          async () => {
            const answer = await instance.fireDistributedTaskRequest(request('a', uniqueTask(), Date.now()));
            if (answer.decision === 'unavailable') throw new Error('not connected yet');
            return answer;
          },
          { timeout: 8000, interval: 50 },
        );
        expect(result.decision).toBe('claimed');
        expect(warnings).toHaveLength(1);
      } finally {
        await instance.stop();
        await late.stop();
      }
    });

    it('gives up on an unanswered claim at the grace period, dials a new connection, and decides the next tick', async () => {
      const proxy = await TcpProxy.start(server.port);
      const { logger, warnings, infos } = recordingLogger();
      const instance = coordinator({ url: proxy.url, gracePeriod: 1000, logger });
      try {
        await instance.start();
        const task = uniqueTask();
        const accepted = proxy.accepted;
        const hole = proxy.blackhole(3000);
        const tick = Date.now();
        const [result, other] = await Promise.all([
          instance.fireDistributedTaskRequest(request('a', task, tick)),
          instance.fireDistributedTaskRequest(request('a', `${task}-other`, tick)),
        ]);
        const gaveUpAfter = Date.now() - tick;
        expect(result.decision).toBe('unavailable');
        expect(other.decision).toBe('unavailable');
        expect(result.reason).toMatch(/did not answer the claim of ".*" in time/);
        // At the grace period, not before; well before the route is back.
        expect(gaveUpAfter).toBeGreaterThanOrEqual(990);
        expect(gaveUpAfter).toBeLessThan(2900);
        // The silent connection was replaced by one new connection (not one per claim).
        expect(proxy.accepted).toBe(accepted + 1);
        await hole;
        // The next ticks are decided as soon as the new connection answers;
        // a busy machine may need more than one tick for that.
        let skipped = 0;
        const next = await vi.waitFor(
          async () => {
            const nextTick = Date.now();
            const answer = await instance.fireDistributedTaskRequest(request('a', task, nextTick));
            if (answer.decision === 'unavailable') {
              skipped++;
              throw new Error(answer.reason);
            }
            return { answer, nextTick };
          },
          { timeout: 15_000, interval: 20 },
        );
        // The held claim never reached Redis: the next tick is a fresh grant.
        expect(next.answer.decision).toBe('claimed');
        expect(next.answer.fence).toBe(next.nextTick * 1000);
        expect(warnings).toHaveLength(1);
        expect(infos).toEqual([
          expect.stringMatching(new RegExp(`available again after \\d+ ms; ${2 + skipped} ticks were skipped meanwhile`)),
        ]);
      } finally {
        await instance.stop();
        await proxy.close();
      }
    });

    it('answers a claim in flight on a silent connection as soon as stop() is called, and dials nothing afterwards', async () => {
      const proxy = await TcpProxy.start(server.port);
      const instance = coordinator({ url: proxy.url, gracePeriod: 1500 });
      try {
        await instance.start();
        const accepted = proxy.accepted;
        const hole = proxy.blackhole(3000);
        const pending = instance.fireDistributedTaskRequest(request('a', uniqueTask(), Date.now()));
        const state = instance.getTaskState('x').catch((error: unknown) => error);
        await vi.waitFor(() => expect(proxy.connections).toBe(1));
        const stopping = Date.now();
        await instance.stop();
        expect(Date.now() - stopping).toBeLessThan(1000);
        expect(await pending).toMatchObject({ shouldTrigger: false, decision: 'stopped' });
        expect(await state).toBeInstanceOf(RedisCoordinatorError);
        await hole;
        // Past the claim's own deadline: a stopped coordinator dialled no new connection.
        expect(proxy.accepted).toBe(accepted);
        await vi.waitFor(() => expect(proxy.connections).toBe(0));
      } finally {
        await instance.stop();
        await proxy.close();
      }
    });

    it('rejects getTaskState at the grace period when the connection is silent', async () => {
      const proxy = await TcpProxy.start(server.port);
      const instance = coordinator({ url: proxy.url, gracePeriod: 500 });
      try {
        await instance.start();
        const hole = proxy.blackhole(2500);
        const error = await instance.getTaskState('x').catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(RedisCoordinatorError);
        expect((error as RedisCoordinatorError).code).toBe('timeout');
        await hole;
      } finally {
        await instance.stop();
        await proxy.close();
      }
    });

    it('retries a claim whose connection was reset, and a lost grant is granted again', async () => {
      const proxy = await TcpProxy.start(server.port);
      const instance = coordinator({ url: proxy.url, gracePeriod: 2000 });
      try {
        await instance.start();
        const claim = request('a', uniqueTask(), Date.now());
        const pending = instance.fireDistributedTaskRequest(claim);
        proxy.reset();
        const result = await pending;
        expect(result.shouldTrigger).toBe(true);
        expect(['claimed', 'repeat']).toContain(result.decision);
        expect(result.fence).toBe(claim.taskExecutionTime * 1000);
      } finally {
        await instance.stop();
        await proxy.close();
      }
    });

    it('answers a claim still waiting for Redis as soon as stop() is called', async () => {
      const instance = coordinator({ gracePeriod: 10_000 });
      await instance.start();
      await server.kill('SIGKILL');
      const pending = instance.fireDistributedTaskRequest(request('a', uniqueTask(), Date.now()));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const stopping = Date.now();
      await instance.stop();
      const result = await pending;
      expect(Date.now() - stopping).toBeLessThan(1000);
      expect(result).toMatchObject({ shouldTrigger: false, decision: 'stopped' });
    });

    it('rejects getTaskState with a RedisCoordinatorError that carries the cause', async () => {
      const instance = coordinator();
      await expect(instance.getTaskState('x')).rejects.toBeInstanceOf(RedisCoordinatorError);
      await instance.start();
      await server.kill('SIGKILL');
      const error = await instance.getTaskState('x').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RedisCoordinatorError);
      expect((error as RedisCoordinatorError).operation).toBe('read');
      expect((error as RedisCoordinatorError).cause).toBeInstanceOf(Error);
    });
  });
});
