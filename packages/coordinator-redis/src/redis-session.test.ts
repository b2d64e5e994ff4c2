import { type IDistributedTaskRequest, Task, TaskManager } from '@taskbuffer/core';
import { CronScheduler } from '@taskbuffer/scheduler';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisServer, redisServerInstalled } from '../test/redis-server.js';
import { TcpProxy } from '../test/tcp-proxy.js';
import { RedisCoordinatorError } from './errors.js';
import type { NodeRedisClientLike } from './redis-connection.js';
import { RedisCoordinator, type RedisCoordinatorLogger, type RedisCoordinatorOptions } from './redis-coordinator.js';

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

function recordingLogger() {
  const warnings: string[] = [];
  const infos: string[] = [];
  const logger: RedisCoordinatorLogger = {
    warn: (message) => warnings.push(message),
    info: (message) => infos.push(message),
  };
  return { logger, warnings, infos };
}

/** A node-redis look-alike that tells the time but fails every other command with `error`. */
function failingClient(error: () => Error): NodeRedisClientLike & { sent: string[][] } {
  const sent: string[][] = [];
  return {
    sent,
    isOpen: true,
    isReady: true,
    sendCommand: async (args: string[]) => {
      sent.push(args);
      if (args[0] === 'TIME') {
        const now = Date.now();
        return [String(Math.floor(now / 1000)), String((now % 1000) * 1000)];
      }
      throw error();
    },
    connect: async () => undefined,
    on: () => undefined,
    off: () => undefined,
  };
}

async function waitForReplication(replica: ReturnType<typeof createClient>): Promise<void> {
  await vi.waitFor(
    async () => {
      const info = String(await replica.sendCommand(['INFO', 'replication']));
      if (!info.includes('master_link_status:up')) throw new Error('replica not in sync yet');
    },
    { timeout: 10_000, interval: 50 },
  );
}

describe.skipIf(!redisServerInstalled)('RedisCoordinator connection layer', () => {
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
    vi.restoreAllMocks();
    await Promise.all(started.splice(0).map((created) => created.stop()));
  });

  afterAll(async () => {
    await server?.stop();
  });

  describe('a demoted primary', () => {
    let primary: RedisServer;
    let replica: RedisServer;
    let primaryAdmin: ReturnType<typeof createClient>;
    let replicaAdmin: ReturnType<typeof createClient>;

    beforeAll(async () => {
      [primary, replica] = await Promise.all([RedisServer.start(), RedisServer.start()]);
      primaryAdmin = createClient({ url: primary.url });
      replicaAdmin = createClient({ url: replica.url });
      await Promise.all([primaryAdmin.connect(), replicaAdmin.connect()]);
    });

    afterEach(async () => {
      await primaryAdmin.sendCommand(['REPLICAOF', 'NO', 'ONE']);
      await replicaAdmin.sendCommand(['REPLICAOF', 'NO', 'ONE']);
    });

    afterAll(async () => {
      await primaryAdmin?.close();
      await replicaAdmin?.close();
      await Promise.all([primary?.stop(), replica?.stop()]);
    });

    it('dials a new connection on READONLY and claims on the new primary behind the same address', async () => {
      await replicaAdmin.sendCommand(['REPLICAOF', '127.0.0.1', String(primary.port)]);
      await waitForReplication(replicaAdmin);
      const proxy = await TcpProxy.start(primary.port);
      const { logger, warnings } = recordingLogger();
      const instance = coordinator({ url: proxy.url, gracePeriod: 2000, logger });
      try {
        await instance.start();
        const task = uniqueTask();
        const tick = Math.floor(Date.now() / 1000) * 1000;
        const first = await instance.fireDistributedTaskRequest(request('a', task, tick - 1000));
        expect(first.decision).toBe('claimed');
        await primaryAdmin.sendCommand(['WAIT', '1', '2000']);
        // A failover: the replica is promoted, the address moves to it, the old primary is demoted.
        await replicaAdmin.sendCommand(['REPLICAOF', 'NO', 'ONE']);
        proxy.retarget(replica.port);
        await primaryAdmin.sendCommand(['REPLICAOF', '127.0.0.1', String(replica.port)]);
        const accepted = proxy.accepted;
        const claimedAt = Date.now();
        // Two claims meet READONLY together: they share one new connection, and both are decided.
        const [next, other] = await Promise.all([
          instance.fireDistributedTaskRequest(request('a', task, tick)),
          instance.fireDistributedTaskRequest(request('a', `${task}-other`, tick)),
        ]);
        expect(next.decision).toBe('claimed');
        expect(other.decision).toBe('claimed');
        expect(next.fence).toBeGreaterThan(first.fence);
        // Not after retrying READONLY for the whole grace period.
        expect(Date.now() - claimedAt).toBeLessThan(1500);
        expect(proxy.accepted).toBe(accepted + 1);
        expect(warnings).toEqual([]);
        // The claim is on the new primary.
        expect(await replicaAdmin.hGet(instance.keyFor(task), 'tick')).toBe(String(tick));
      } finally {
        await instance.stop();
        await proxy.close();
      }
    });

    it('skips the tick at once, naming READONLY, while the server stays a replica; claims again once it is promoted', async () => {
      const { logger, warnings, infos } = recordingLogger();
      const instance = coordinator({ url: primary.url, gracePeriod: 3000, logger });
      await instance.start();
      const task = uniqueTask();
      await primaryAdmin.sendCommand(['REPLICAOF', '127.0.0.1', String(replica.port)]);
      await waitForReplication(primaryAdmin);
      const refused = [];
      for (let index = 0; index < 3; index++) {
        const askedAt = Date.now();
        const result = await instance.fireDistributedTaskRequest(request('a', task, Date.now()));
        expect(Date.now() - askedAt).toBeLessThan(2500);
        refused.push(result);
      }
      for (const result of refused) {
        expect(result).toMatchObject({ decision: 'unavailable', shouldTrigger: false });
        expect(result.reason).toMatch(/^Redis refused the claim of ".*": the Redis server is a read-only replica .*READONLY.*; skipping the tick$/);
      }
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/READONLY/);
      await primaryAdmin.sendCommand(['REPLICAOF', 'NO', 'ONE']);
      const back = await instance.fireDistributedTaskRequest(request('a', task, Date.now()));
      expect(back.decision).toBe('claimed');
      expect(infos).toEqual([expect.stringMatching(/available again after \d+ ms; 3 ticks were skipped meanwhile\.$/)]);
    });
  });

  describe('errors no retry can get past', () => {
    it.each([
      ['NOPERM', () => new Error("NOPERM User u has no permissions to run the 'evalsha' command"), /lacks a permission/],
      ['MOVED', () => new Error('MOVED 3999 127.0.0.1:7001'), /pass a cluster client/],
      ['a client TypeError', () => new TypeError('client.sendCommand is not a function'), /the Redis client failed inside/],
      ['NOSCRIPT after EVAL', () => new Error('NOSCRIPT No matching script.'), /does not keep the script/],
    ])('skip the tick at once on %s, logged once, with the cause in the reason', async (_name, error, cause) => {
      const client = failingClient(error);
      const { logger, warnings } = recordingLogger();
      const instance = coordinator({ url: undefined, client, gracePeriod: 5000, logger });
      await instance.start();
      const startedAt = Date.now();
      const results = [];
      for (let index = 0; index < 3; index++) {
        results.push(await instance.fireDistributedTaskRequest(request('a', uniqueTask(), Date.now())));
      }
      expect(Date.now() - startedAt).toBeLessThan(2500);
      for (const result of results) {
        expect(result.decision).toBe('unavailable');
        expect(result.reason).toMatch(cause);
      }
      // At most EVALSHA then EVAL per claim: no retry loop.
      const scripts = client.sent.filter(([command]) => command === 'EVALSHA' || command === 'EVAL');
      expect(scripts.length).toBeLessThanOrEqual(6);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(cause);
    });

    it('refuses a user the ACL does not allow to run the script, naming NOPERM', async () => {
      const admin = createClient({ url: server.url });
      await admin.connect();
      await admin.sendCommand(['ACL', 'SETUSER', 'limited', 'on', '>secret', '~*', '+time', '+hgetall']);
      try {
        const { logger, warnings } = recordingLogger();
        const instance = coordinator({ url: `redis://limited:secret@127.0.0.1:${server.port}`, gracePeriod: 5000, logger });
        await instance.start();
        const askedAt = Date.now();
        const result = await instance.fireDistributedTaskRequest(request('a', uniqueTask(), Date.now()));
        expect(Date.now() - askedAt).toBeLessThan(2500);
        expect(result.decision).toBe('unavailable');
        expect(result.reason).toMatch(/NOPERM/);
        expect(warnings).toHaveLength(1);
      } finally {
        await admin.sendCommand(['ACL', 'DELUSER', 'limited']);
        await admin.close();
      }
    });
  });

  describe('start', () => {
    it.each([
      ['a wrong password', (port: number) => `redis://:wrong@127.0.0.1:${port}`, 'WRONGPASS'],
      ['no password', (port: number) => `redis://127.0.0.1:${port}`, 'NOAUTH'],
    ])('rejects with one clear line for %s', async (_name, url, code) => {
      const admin = createClient({ url: server.url });
      await admin.connect();
      await admin.sendCommand(['CONFIG', 'SET', 'requirepass', 'secret']);
      try {
        const { logger, warnings, infos } = recordingLogger();
        const instance = coordinator({ url: url(server.port), gracePeriod: 3000, logger });
        const error = await instance.start().then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(error).toBeInstanceOf(RedisCoordinatorError);
        expect(error).toMatchObject({ operation: 'connect', kind: 'permanent', code });
        expect((error as Error).message).toMatch(new RegExp(`^Redis refused the connection: .*${code}`));
        expect((error as Error).message).not.toContain('\n');
        // The rejection is the report: nothing else is logged, and nothing is left running.
        expect(warnings).toEqual([]);
        expect(infos).toEqual([]);
        expect(instance.available).toBe(false);
        expect((await instance.fireDistributedTaskRequest(request('a', 'x', Date.now()))).decision).toBe('stopped');
      } finally {
        await admin.sendCommand(['AUTH', 'secret']);
        await admin.sendCommand(['CONFIG', 'SET', 'requirepass', '']);
        await admin.close();
      }
    });
  });

  describe('outage logging', () => {
    it('logs one warning while every round trip is slower than the grace period, and counts the skipped ticks when a claim succeeds', async () => {
      const proxy = await TcpProxy.start(server.port);
      const { logger, warnings, infos } = recordingLogger();
      const instance = coordinator({ url: proxy.url, gracePeriod: 300, logger });
      try {
        await instance.start();
        const task = uniqueTask();
        proxy.latency = 800;
        let skipped = 0;
        for (let index = 0; index < 5; index++) {
          const result = await instance.fireDistributedTaskRequest(request('a', task, Date.now()));
          expect(result.decision).toBe('unavailable');
          skipped++;
        }
        // New connections opened meanwhile did not count as "available again".
        expect(warnings).toHaveLength(1);
        expect(infos).toEqual([]);
        proxy.latency = 0;
        await vi.waitFor(
          async () => {
            const result = await instance.fireDistributedTaskRequest(request('a', task, Date.now()));
            if (result.decision === 'unavailable') {
              skipped++;
              throw new Error(result.reason);
            }
            expect(result.decision).toBe('claimed');
          },
          { timeout: 10_000, interval: 20 },
        );
        expect(warnings).toHaveLength(1);
        expect(infos).toEqual([expect.stringMatching(new RegExp(`; ${skipped} ticks were skipped meanwhile\\.$`))]);
      } finally {
        await instance.stop();
        await proxy.close();
      }
    });
  });

  describe('with a scheduler', () => {
    it('reports ticks whose claims wait on a silent Redis as skipped for that reason, not as overlaps, and counts them all when Redis is back', async () => {
      const proxy = await TcpProxy.start(server.port);
      const { logger, warnings, infos } = recordingLogger();
      const instance = coordinator({ url: proxy.url, gracePeriod: 1500, logger });
      const manager = new TaskManager({ scheduler: new CronScheduler({ timezone: 'UTC' }), distributedCoordinator: instance });
      const skipped: string[] = [];
      const ran: number[] = [];
      const name = uniqueTask();
      manager.addAndScheduleTask(new Task({ name, taskFunction: async () => void ran.push(Date.now()) }), '* * * * * *');
      manager.taskSubject.subscribe((event) => {
        if (event.type === 'skipped' && event.task.name === name) skipped.push(event.reason ?? '');
      });
      try {
        await manager.start();
        await vi.waitFor(() => expect(ran.length).toBeGreaterThan(0), { timeout: 5000 });
        const hole = proxy.blackhole(3500);
        await hole;
        const holeEnded = Date.now();
        await vi.waitFor(() => expect(ran.some((at) => at > holeEnded)).toBe(true), { timeout: 8000, interval: 20 });
        await vi.waitFor(() => expect(infos).toHaveLength(1));
        expect(skipped.length).toBeGreaterThanOrEqual(2);
        expect(skipped.filter((reason) => reason.includes('overlap'))).toEqual([]);
        for (const reason of skipped) expect(reason).toMatch(/^distributed coordinator: Redis /);
        expect(warnings).toHaveLength(1);
        expect(infos[0]).toMatch(new RegExp(`; ${skipped.length} ticks were skipped meanwhile\\.$`));
      } finally {
        await manager.stop();
        await proxy.close();
      }
    });
  });

  describe('clock sanity', () => {
    it("warns once, with both clocks, when this process's clock is off by more than half the grace period", async () => {
      const { logger, warnings } = recordingLogger();
      const realNow = Date.now.bind(Date);
      vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 1500);
      const instance = coordinator({ gracePeriod: 2000, logger });
      await instance.start();
      // Warned at start, before any tick depends on it.
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /^\[@taskbuffer\/coordinator-redis\] This process's clock reads \d{4}-\d\d-\d\dT[\d:.]+Z while the Redis server's reads \d{4}-\d\d-\d\dT[\d:.]+Z: 1[45]\d\d ms ahead, more than 1000 ms; claims are judged by the Redis server's clock/,
      );
      const granted = await instance.fireDistributedTaskRequest(request('a', uniqueTask(), Date.now()));
      expect(granted.decision).toBe('claimed');
      vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 4000);
      const early = await instance.fireDistributedTaskRequest(request('a', uniqueTask(), Date.now()));
      expect(early.decision).toBe('early');
      expect(warnings).toHaveLength(1);
    });

    it('says nothing when the clocks agree', async () => {
      const { logger, warnings } = recordingLogger();
      const instance = coordinator({ gracePeriod: 2000, logger });
      await instance.start();
      await instance.fireDistributedTaskRequest(request('a', uniqueTask(), Date.now()));
      expect(warnings).toEqual([]);
    });
  });

  describe('client ownership', () => {
    it('leaves no listener on a node-redis client you own after many start/stop cycles', async () => {
      const client = createClient({ url: server.url });
      await client.connect();
      const warned: Error[] = [];
      const onWarning = (warning: Error) => warned.push(warning);
      process.on('warning', onWarning);
      try {
        const before = { error: client.listenerCount('error'), ready: client.listenerCount('ready') };
        for (let cycle = 0; cycle < 15; cycle++) {
          const instance = new RedisCoordinator({ client, logger: recordingLogger().logger });
          await instance.start();
          expect((await instance.fireDistributedTaskRequest(request('a', uniqueTask(), Date.now()))).shouldTrigger).toBe(true);
          await instance.stop();
        }
        expect({ error: client.listenerCount('error'), ready: client.listenerCount('ready') }).toEqual(before);
        expect(client.isReady).toBe(true);
        expect(warned.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
      } finally {
        process.off('warning', onWarning);
        await client.close();
      }
    });

    it('leaves an ioredis client that connected itself open, and closes one it had to connect (lazyConnect)', async () => {
      const own = new Redis(server.port, '127.0.0.1');
      const lazy = new Redis(server.port, '127.0.0.1', { lazyConnect: true });
      const viaOwn = coordinator({ url: undefined, client: own });
      const viaLazy = coordinator({ url: undefined, client: lazy });
      await Promise.all([viaOwn.start(), viaLazy.start()]);
      expect(lazy.status).toBe('ready');
      await Promise.all([viaOwn.stop(), viaLazy.stop()]);
      expect(own.status).toBe('ready');
      await vi.waitFor(() => expect(lazy.status).toBe('end'));
      await own.quit();
    });
  });
});
