import { Task, TaskManager } from '@taskbuffer/core';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisServer, redisServerInstalled } from '../test/redis-server.js';
import type { MergedUpdate, RelayedRun } from './dashboard-types.js';
import { RedisDashboardSource, type RedisDashboardSourceOptions } from './redis-dashboard-source.js';
import { type DashboardRelay, type RelayToRedisOptions, relayToRedis } from './redis-relay.js';

const quiet = { warn: () => undefined, info: () => undefined };
let namespace = 0;

describe('relayToRedis', () => {
  describe('options', () => {
    const manager = new TaskManager();
    it.each([
      [{ instanceId: '' }, 'Expected `instanceId` to be a non-empty string, got `""` (string)'],
      [{ flushMs: 0 }, 'Expected `flushMs` to be a positive number of ms, got `0` (number)'],
      [{ maxLength: 0 }, 'Expected `maxLength` to be an integer of at least 1, got `0` (number)'],
      [{ heartbeatMs: 1000, presenceTimeoutMs: 1500 }, 'Expected `presenceTimeoutMs` to be at least twice `heartbeatMs` (2000 ms), got `1500` (number)'],
      [{ allowTrigger: 'yes' }, 'Expected `allowTrigger` to be a boolean, got `"yes"` (string)'],
      [{ url: 'http://x' }, 'Expected `url` to be a redis:// or rediss:// URL, got `"http://x"` (string)'],
    ])('refuses %o with a TypeError naming the option', (options, message) => {
      expect(() => relayToRedis(manager, options as RelayToRedisOptions)).toThrow(new TypeError(message));
    });

    it('refuses what is not a manager', () => {
      expect(() => relayToRedis({} as never)).toThrow(new TypeError('Expected `manager` to be a TaskManager, got `{}` (object)'));
    });
  });
});

describe('RedisDashboardSource', () => {
  describe('options', () => {
    it.each([
      [{ pollMs: -1 }, 'Expected `pollMs` to be a positive number of ms, got `-1` (number)'],
      [{ runsPerTask: 1.5 }, 'Expected `runsPerTask` to be a non-negative integer, got `1.5` (number)'],
      [{ keyPrefix: null }, 'Expected `keyPrefix` to be a string, got `null`'],
    ])('refuses %o with a TypeError naming the option', (options, message) => {
      expect(() => new RedisDashboardSource(options as RedisDashboardSourceOptions)).toThrow(new TypeError(message));
    });
  });
});

describe.skipIf(!redisServerInstalled)('relayToRedis and RedisDashboardSource with a real Redis', () => {
  let server: RedisServer;
  const cleanups: Array<() => Promise<unknown> | unknown> = [];

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  afterAll(async () => {
    await server?.stop();
  });

  /** A namespace of its own for each test. */
  const cluster = () => {
    const keyPrefix = `relay-test:${++namespace}:`;
    const relay = (manager: TaskManager, options: RelayToRedisOptions = {}): DashboardRelay => {
      const relayed = relayToRedis(manager, { url: server.url, keyPrefix, heartbeatMs: 100, logger: quiet, ...options });
      cleanups.push(() => relayed.close());
      return relayed;
    };
    const source = (options: RedisDashboardSourceOptions = {}) => {
      const made = new RedisDashboardSource({ url: server.url, keyPrefix, presenceMs: 100, logger: quiet, ...options });
      cleanups.push(() => made.close());
      return made;
    };
    const manager = (instanceId: string) => {
      const made = new TaskManager({ instanceId });
      cleanups.push(() => made.stop());
      return made;
    };
    return { keyPrefix, relay, source, manager };
  };

  /** Subscribes and collects updates, problems and the newest state of every run. */
  const watch = (source: RedisDashboardSource) => {
    const updates: MergedUpdate[] = [];
    const problems: Array<string | undefined> = [];
    const runs = new Map<string, RelayedRun>();
    const arrivals = new Map<string, number>();
    const subscription = source.subscribe({
      update(update) {
        updates.push(update);
        for (const run of update.runs ?? []) {
          runs.set(run.id, run);
          if (run.endedAt !== undefined && !arrivals.has(run.id)) arrivals.set(run.id, Date.now());
        }
      },
      problem: (message) => problems.push(message),
    });
    cleanups.push(() => subscription.unsubscribe());
    return { updates, problems, runs, arrivals };
  };

  const redis = async () => {
    const client = createClient({ url: server.url });
    client.on('error', () => undefined);
    await client.connect();
    cleanups.push(() => client.close());
    return client;
  };

  it('merges three instances: every run of every instance shows within 500 ms of its end', async () => {
    const { relay, source, manager } = cluster();
    const managers = ['web-1', 'web-2', 'web-3'].map((id) => {
      const made = manager(id);
      made.addTask(new Task({ name: 'render', taskFunction: () => new Promise((resolve) => setTimeout(resolve, 5)) }));
      relay(made);
      return made;
    });
    const merged = source();
    await vi.waitFor(async () => expect((await merged.getSnapshot()).instances.map((instance) => instance.status)).toEqual(['live', 'live', 'live']), {
      timeout: 10_000,
    });
    const watcher = watch(merged);
    for (let round = 0; round < 10; round++) {
      await Promise.all(managers.map((made) => made.triggerTaskByName('render')));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await vi.waitFor(() => expect([...watcher.runs.values()].filter((run) => run.status === 'completed')).toHaveLength(30), {
      timeout: 10_000,
    });
    const byInstance = new Map<string, number>();
    const delays: number[] = [];
    for (const run of watcher.runs.values()) {
      byInstance.set(run.instanceId!, (byInstance.get(run.instanceId!) ?? 0) + 1);
      delays.push(watcher.arrivals.get(run.id)! - run.endedAt!);
    }
    expect(Object.fromEntries(byInstance)).toEqual({ 'web-1': 10, 'web-2': 10, 'web-3': 10 });
    expect(Math.max(...delays)).toBeLessThan(500);
    const snapshot = await merged.getSnapshot();
    expect(snapshot.tasks).toEqual([expect.objectContaining({ name: 'render', runCount: 30, instances: ['web-1', 'web-2', 'web-3'] })]);
  });

  it('shows an instance that stops heartbeating as gone after its presence timeout, and one that leaves at once', async () => {
    const { relay, source, manager } = cluster();
    const client = createClient({ url: server.url });
    client.on('error', () => undefined);
    await client.connect();
    const stale = relay(manager('stale'), { url: undefined, client, heartbeatMs: 100, presenceTimeoutMs: 600 });
    const leaving = relay(manager('leaving'), { heartbeatMs: 100, presenceTimeoutMs: 60_000 });
    const merged = source();
    await vi.waitFor(async () => expect((await merged.getSnapshot()).instances.filter((instance) => instance.status === 'live')).toHaveLength(2), {
      timeout: 10_000,
    });
    const watcher = watch(merged);
    await leaving.close();
    await vi.waitFor(() => expect(watcher.updates.at(-1)?.instances?.find((instance) => instance.id === 'leaving')?.status).toBe('gone'), {
      timeout: 2000,
    });
    // The instance loses its connection: no more heartbeats, and its record expires.
    const lostAt = Date.now();
    client.destroy();
    await vi.waitFor(
      () => expect(watcher.updates.flatMap((update) => update.instances ?? []).find((instance) => instance.id === 'stale' && instance.status === 'gone')).toBeDefined(),
      { timeout: 5000 },
    );
    expect(Date.now() - lostAt).toBeGreaterThanOrEqual(400);
    void stale;
  });

  it('skips stream entries of an unknown format version, says so, and keeps reading', async () => {
    const { keyPrefix, relay, source, manager } = cluster();
    const made = manager('web-1');
    made.addTask(new Task({ name: 'job', taskFunction: () => 1 }));
    relay(made);
    const merged = source();
    await merged.getSnapshot();
    const watcher = watch(merged);
    const client = await redis();
    await client.sendCommand(['XADD', `${keyPrefix}stream`, '*', 'v', '2', 'i', 'web-9', 'k', 'batch', 'd', '{"shape":"new"}']);
    await vi.waitFor(
      () =>
        expect(watcher.problems.at(-1)).toBe(
          'Skipped 1 record this dashboard cannot read (latest: instance "web-9" wrote an entry of format version 2 (this dashboard reads version 1)); still reading',
        ),
      { timeout: 5000 },
    );
    await client.sendCommand(['XADD', `${keyPrefix}stream`, '*', 'garbage', 'yes']);
    await made.triggerTaskByName('job');
    await vi.waitFor(() => expect([...watcher.runs.values()].some((run) => run.status === 'completed')).toBe(true), { timeout: 5000 });
    expect(watcher.problems.filter((problem) => problem !== undefined).at(-1)).toMatch(
      /^Skipped 2 records this dashboard cannot read \(latest: the stream holds an entry without a format version\); still reading$/,
    );
  });

  it('skips events of a type it does not know, says so, and keeps the rest of the entry', async () => {
    const { keyPrefix, source } = cluster();
    const merged = source();
    await merged.getSnapshot();
    const watcher = watch(merged);
    const client = await redis();
    const batch = { time: Date.now(), session: 's1', start: Date.now(), names: ['job'], events: [[0, 0, 0], [77, 0, 1], [1, 0, 2]], lostEvents: 0, tasks: [] };
    await client.sendCommand(['XADD', `${keyPrefix}stream`, '*', 'v', '1', 'i', 'web-7', 'k', 'batch', 'd', JSON.stringify(batch)]);
    await vi.waitFor(() => expect([...watcher.runs.values()].map((run) => run.status)).toEqual(['completed']), { timeout: 5000 });
    expect(watcher.problems.at(-1)).toBe(
      'Skipped 1 record this dashboard cannot read (latest: instance "web-7" wrote 1 event of a type this dashboard does not know); still reading',
    );
    expect(watcher.updates.flatMap((update) => update.events).map((event) => event.type)).toEqual(['started', 'completed']);
  });

  it('tells watchers when Redis is down, keeps retrying, and catches up with the runs of the outage', async () => {
    const { relay, source, manager } = cluster();
    const made = manager('web-1');
    made.addTask(new Task({ name: 'job', taskFunction: () => 1 }));
    const lines: string[] = [];
    relay(made, { commandTimeoutMs: 300, logger: { warn: (line) => lines.push(line), info: (line) => lines.push(line) } });
    const merged = source({ commandTimeoutMs: 300 });
    await vi.waitFor(async () => expect((await merged.getSnapshot()).tasks).toHaveLength(1), { timeout: 5000 });
    const watcher = watch(merged);
    await server.kill();
    await vi.waitFor(() => expect(watcher.problems.at(-1)).toMatch(/^Cannot read the cluster from Redis: .*Retrying\.$/), { timeout: 5000 });
    // The manager runs on while Redis is down; nothing throws into it.
    await made.triggerTaskByName('job');
    // What was read last is still served.
    expect((await merged.getSnapshot()).tasks.map((task) => task.name)).toEqual(['job']);
    await server.launch();
    await vi.waitFor(() => expect(watcher.problems.at(-1)).toBeUndefined(), { timeout: 10_000 });
    await vi.waitFor(() => expect([...watcher.runs.values()].some((run) => run.status === 'completed')).toBe(true), { timeout: 10_000 });
    // The relay logged the outage once, and its end once.
    await vi.waitFor(() => expect(lines).toHaveLength(2), { timeout: 5000 });
    expect(lines[0]).toMatch(/^\[@taskbuffer\/coordinator-redis\] relayToRedis \(web-1\): Redis is unavailable \(.*\); the merged dashboard misses this instance's events until it is back/);
    expect(lines[1]).toMatch(/^\[@taskbuffer\/coordinator-redis\] relayToRedis \(web-1\): Redis is available again after \d+ ms\.$/);
  });

  it('logs a server that refuses the connection for good and throws nothing into the manager', async () => {
    // A server of its own that wants a password (set after start: the start-up check pings without one).
    const guarded = await RedisServer.start();
    cleanups.push(() => guarded.stop());
    const admin = createClient({ url: guarded.url });
    await admin.connect();
    await admin.sendCommand(['CONFIG', 'SET', 'requirepass', 'secret']);
    admin.destroy();
    const lines: string[] = [];
    const logger = { warn: (line: string) => lines.push(line), info: (line: string) => lines.push(line) };
    const made = new TaskManager({ instanceId: 'locked-out' });
    cleanups.push(() => made.stop());
    made.addTask(new Task({ name: 'job', taskFunction: () => 1 }));
    const relayed = relayToRedis(made, { url: guarded.url, logger, commandTimeoutMs: 500 });
    await made.triggerTaskByName('job');
    await relayed.flush();
    await relayed.close();
    expect(lines.some((line) => line.includes('relayToRedis (locked-out)') && /password/.test(line))).toBe(true);
    const merged = new RedisDashboardSource({ url: guarded.url, logger, commandTimeoutMs: 500 });
    cleanups.push(() => merged.close());
    await expect(merged.getSnapshot()).rejects.toThrow(/password/);
  });

  it('keeps the stream at its cap', async () => {
    const { keyPrefix, relay, manager } = cluster();
    const made = manager('busy');
    made.addTask(new Task({ name: 'tick', taskFunction: () => 1 }));
    const relayed = relay(made, { maxLength: 20, flushMs: 1000 });
    for (let index = 0; index < 300; index++) {
      await made.triggerTaskByName('tick');
      await relayed.flush();
    }
    const client = await redis();
    const length = Number(await client.sendCommand(['XLEN', `${keyPrefix}stream`]));
    expect(relayed.entriesWritten).toBe(300);
    // `MAXLEN ~` trims whole nodes of (by default) 100 entries.
    expect(length).toBeLessThanOrEqual(20 + 100);
  });

  describe('trigger', () => {
    it('starts the run on the instance that has the task, and refuses an unknown task', async () => {
      const { relay, source, manager } = cluster();
      const first = manager('web-1');
      const second = manager('web-2');
      const ran: string[] = [];
      first.addTask(new Task({ name: 'only-first', taskFunction: () => ran.push('web-1') }));
      second.addTask(new Task({ name: 'only-second', taskFunction: () => ran.push('web-2') }));
      relay(first, { allowTrigger: true, commandPollMs: 20 });
      relay(second, { allowTrigger: true, commandPollMs: 20 });
      const merged = source();
      await vi.waitFor(async () => expect((await merged.getSnapshot()).tasks).toHaveLength(2), { timeout: 5000 });
      await merged.trigger('only-second');
      await merged.trigger('only-first');
      await vi.waitFor(() => expect(ran.sort()).toEqual(['web-1', 'web-2']), { timeout: 5000 });
      await expect(merged.trigger('nowhere')).rejects.toMatchObject({ name: 'TaskNotFoundError' });
    });

    it('refuses a task whose instances do not take triggers', async () => {
      const { relay, source, manager } = cluster();
      const made = manager('web-1');
      made.addTask(new Task({ name: 'guarded', taskFunction: () => 1 }));
      relay(made);
      const merged = source();
      await vi.waitFor(async () => expect((await merged.getSnapshot()).instances[0]?.status).toBe('live'), { timeout: 5000 });
      await expect(merged.trigger('guarded')).rejects.toThrow(
        'No live instance that has "guarded" takes triggers (relayToRedis option `allowTrigger`)',
      );
    });
  });
});
