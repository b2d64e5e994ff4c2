import {
  type Clock,
  type ITaskEvent,
  type SchedulerHost,
  type SchedulerPort,
  Task,
  TaskCancelledError,
  TaskManager,
  TaskTimeoutError,
  systemClock,
} from '@taskbuffer/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CronScheduler } from '@taskbuffer/scheduler';
import { TaskConstraintGroup } from './constraint-group.js';
import { ConstraintCallbackError } from './errors.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Records when runs start and end, and how many overlap. */
class Recorder {
  running = 0;
  maxRunning = 0;
  readonly starts: Array<{ label: string; at: number }> = [];
  readonly ends: Array<{ label: string; at: number }> = [];

  async run<T>(label: string, ms: number, result?: T): Promise<T | undefined> {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    this.starts.push({ label, at: Date.now() });
    try {
      await sleep(ms);
      return result;
    } finally {
      this.running--;
      this.ends.push({ label, at: Date.now() });
    }
  }

  startOf(label: string): number {
    return this.starts.find((entry) => entry.label === label)!.at;
  }

  endOf(label: string): number {
    return this.ends.find((entry) => entry.label === label)!.at;
  }

  get order(): string[] {
    return this.starts.map((entry) => entry.label);
  }
}

const extractTLD = (domain: string) => domain.split('.').slice(-2).join('.');

describe('TaskManager with TaskConstraintGroup', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  describe('addConstraintGroup', () => {
    it('serializes tasks with the same key (per-key mutual exclusion)', async () => {
      const manager = new TaskManager();
      const recorder = new Recorder();
      const domainMutex = new TaskConstraintGroup<{ domain: string }>({
        name: 'domain-mutex',
        maxConcurrent: 1,
        constraintKeyForExecution: (task) => task.data.domain,
      });
      manager.addConstraintGroup(domainMutex);
      const task1 = new Task<undefined, [], { domain: string }>({
        name: 'update-a.com',
        data: { domain: 'a.com' },
        taskFunction: () => recorder.run('task1', 100, 1),
      });
      const task2 = new Task<undefined, [], { domain: string }>({
        name: 'update-a.com-2',
        data: { domain: 'a.com' },
        taskFunction: () => recorder.run('task2', 100, 2),
      });
      const task3 = new Task<undefined, [], { domain: string }>({
        name: 'update-b.com',
        data: { domain: 'b.com' },
        taskFunction: () => recorder.run('task3', 100, 3),
      });
      manager.addTask(task1);
      manager.addTask(task2);
      manager.addTask(task3);
      const all = Promise.all([manager.triggerTask(task1), manager.triggerTask(task2), manager.triggerTask(task3)]);
      expect(domainMutex.getRunningCount('a.com')).toBe(1);
      await vi.runAllTimersAsync();
      await expect(all).resolves.toEqual([1, 2, 3]);
      expect(recorder.startOf('task2')).toBeGreaterThanOrEqual(recorder.endOf('task1'));
      expect(recorder.startOf('task3')).toBe(recorder.startOf('task1'));
      expect(recorder.maxRunning).toBe(2);
      expect(domainMutex.getRunningCount('a.com')).toBe(0);
    });

    it('caps concurrency per key and lets a null key through (group concurrency limit)', async () => {
      const manager = new TaskManager();
      const recorder = new Recorder();
      const dnsLimit = new TaskConstraintGroup<{ group: string }>({
        name: 'dns-concurrency',
        maxConcurrent: 3,
        constraintKeyForExecution: (task) => (task.data.group === 'dns' ? 'dns' : null),
      });
      manager.addConstraintGroup(dnsLimit);
      let dnsRunning = 0;
      let maxDns = 0;
      const dns = new Task<undefined, [], { group: string }>({
        name: 'dns',
        data: { group: 'dns' },
        taskFunction: async () => {
          maxDns = Math.max(maxDns, ++dnsRunning);
          await sleep(10);
          dnsRunning--;
        },
      });
      const other = new Task<undefined, [], { group: string }>({
        name: 'other',
        data: { group: 'web' },
        taskFunction: () => recorder.run('other', 10),
      });
      const runs = [
        ...Array.from({ length: 10 }, () => manager.triggerTask(dns)),
        ...Array.from({ length: 5 }, () => manager.triggerTask(other)),
      ];
      expect(dnsLimit.getRunningCount('dns')).toBe(3);
      expect(recorder.running).toBe(5);
      await vi.runAllTimersAsync();
      await Promise.all(runs);
      expect(maxDns).toBe(3);
      expect(Date.now() - recorder.startOf('other')).toBeGreaterThanOrEqual(40);
    });

    it('keeps a minimum gap from the end of one run to the start of the next on a key (cooldowns)', async () => {
      const manager = new TaskManager();
      const recorder = new Recorder();
      const rateLimiter = new TaskConstraintGroup<{ domain: string }>({
        name: 'api-rate-limit',
        maxConcurrent: 1,
        cooldownMs: 11000,
        constraintKeyForExecution: (task) => task.data.domain,
      });
      manager.addConstraintGroup(rateLimiter);
      let count = 0;
      const call = new Task<undefined, [], { domain: string }>({
        name: 'call',
        data: { domain: 'a.com' },
        taskFunction: () => recorder.run(`run${++count}`, 500),
      });
      const runs = [manager.triggerTask(call), manager.triggerTask(call), manager.triggerTask(call)];
      await vi.advanceTimersByTimeAsync(500);
      expect(recorder.order).toEqual(['run1']);
      expect(rateLimiter.getCooldownRemaining('a.com')).toBe(11000);
      // One timer per cooling key with waiters: nothing polls.
      expect(vi.getTimerCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(10999);
      expect(recorder.order).toEqual(['run1']);
      await vi.advanceTimersByTimeAsync(1);
      expect(recorder.order).toEqual(['run1', 'run2']);
      await vi.runAllTimersAsync();
      await Promise.all(runs);
      expect(recorder.startOf('run2') - recorder.endOf('run1')).toBe(11000);
      expect(recorder.startOf('run3') - recorder.endOf('run2')).toBe(11000);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('limits every task with a shared key (global concurrency cap)', async () => {
      const manager = new TaskManager();
      const recorder = new Recorder();
      manager.addConstraintGroup(
        new TaskConstraintGroup({ name: 'global-cap', maxConcurrent: 10, constraintKeyForExecution: () => 'all' }),
      );
      const tasks = Array.from(
        { length: 5 },
        (_, index) => new Task({ name: `t${index}`, taskFunction: (input: number) => recorder.run(`t${index}:${input}`, 5 + index, input) }),
      );
      const runs = tasks.flatMap((task) => Array.from({ length: 6 }, (_, input) => manager.triggerTask(task, input)));
      expect(recorder.running).toBe(10);
      await vi.runAllTimersAsync();
      await Promise.all(runs);
      expect(recorder.maxRunning).toBe(10);
      expect(recorder.starts).toHaveLength(30);
    });

    it('runs a task only when all applicable groups allow it (composing constraints)', async () => {
      const manager = new TaskManager();
      const recorder = new Recorder();
      const globalCap = new TaskConstraintGroup({ name: 'global-cap', maxConcurrent: 2, constraintKeyForExecution: () => 'all' });
      const domainMutex = new TaskConstraintGroup<{ domain: string }>({
        name: 'domain-mutex',
        maxConcurrent: 1,
        constraintKeyForExecution: (task) => task.data.domain,
      });
      const rateLimiter = new TaskConstraintGroup<{ domain: string }>({
        name: 'api-rate-limit',
        maxConcurrent: 1,
        cooldownMs: 1000,
        constraintKeyForExecution: (task) => task.data.domain,
      });
      manager.addConstraintGroup(globalCap);
      manager.addConstraintGroup(domainMutex);
      manager.addConstraintGroup(rateLimiter);
      const make = (domain: string) =>
        new Task<undefined, [], { domain: string }>({
          name: `dns-${domain}`,
          data: { domain },
          taskFunction: (input: number) => recorder.run(`${domain}#${input}`, 100),
        });
      const a = make('a.com');
      const b = make('b.com');
      const c = make('c.com');
      const runs = [
        manager.triggerTask(a, 1),
        manager.triggerTask(a, 2),
        manager.triggerTask(b, 1),
        manager.triggerTask(c, 1),
      ];
      expect(recorder.order).toEqual(['a.com#1', 'b.com#1']);
      await vi.advanceTimersByTimeAsync(100);
      // a.com cools down; c.com takes the free global slot.
      expect(recorder.order).toEqual(['a.com#1', 'b.com#1', 'c.com#1']);
      await vi.runAllTimersAsync();
      await Promise.all(runs);
      expect(recorder.startOf('a.com#2') - recorder.endOf('a.com#1')).toBe(1000);
      expect(recorder.maxRunning).toBe(2);
    });

    it('exempts triggers whose key is null (selective constraints)', async () => {
      const manager = new TaskManager();
      const recorder = new Recorder();
      manager.addConstraintGroup(
        new TaskConstraintGroup<{ priority: string }>({
          name: 'low-priority-limit',
          maxConcurrent: 2,
          constraintKeyForExecution: (task) => (task.data.priority === 'low' ? 'low-priority' : null),
        }),
      );
      const low = new Task<undefined, [], { priority: string }>({
        name: 'low',
        data: { priority: 'low' },
        taskFunction: (input: number) => recorder.run(`low${input}`, 100),
      });
      const high = new Task<undefined, [], { priority: string }>({
        name: 'high',
        data: { priority: 'high' },
        taskFunction: (input: number) => recorder.run(`high${input}`, 100),
      });
      const runs = [1, 2, 3, 4].map((input) => manager.triggerTask(low, input));
      runs.push(...[1, 2, 3].map((input) => manager.triggerTask(high, input)));
      expect(recorder.order).toEqual(['low1', 'low2', 'high1', 'high2', 'high3']);
      await vi.runAllTimersAsync();
      await Promise.all(runs);
      expect(recorder.startOf('low3')).toBe(recorder.endOf('low1'));
    });

    it('shares one group’s limits between the managers it is added to', async () => {
      const recorder = new Recorder();
      const shared = new TaskConstraintGroup({ name: 'shared', maxConcurrent: 1, constraintKeyForExecution: () => 'k' });
      const first = new TaskManager();
      const second = new TaskManager();
      first.addConstraintGroup(shared);
      second.addConstraintGroup(shared);
      const task = new Task({ name: 't', taskFunction: (input: string) => recorder.run(input, 10) });
      const runs = [first.triggerTask(task, 'a'), second.triggerTask(task, 'b'), first.triggerTask(task, 'c')];
      expect(recorder.order).toEqual(['a']);
      await vi.runAllTimersAsync();
      await Promise.all(runs);
      expect(recorder.order).toEqual(['a', 'b', 'c']);
      expect(recorder.maxRunning).toBe(1);
    });

    it('refuses a group that is not a TaskConstraintGroup once the engine is ours', () => {
      const manager = new TaskManager();
      manager.addConstraintGroup(new TaskConstraintGroup({ name: 'ours', constraintKeyForExecution: () => 'all' }));
      const foreign = { name: 'foreign', maxConcurrent: 1, cooldownMs: 0, createConstraintEngine: () => ({}) as never };
      expect(() => manager.addConstraintGroup(foreign)).toThrow(
        /Expected `group` to be a TaskConstraintGroup from @taskbuffer\/constraints/,
      );
    });

    it('throws for a second group with the same name', () => {
      const manager = new TaskManager();
      manager.addConstraintGroup(new TaskConstraintGroup({ name: 'g', constraintKeyForExecution: () => 'all' }));
      expect(() =>
        manager.addConstraintGroup(new TaskConstraintGroup({ name: 'g', constraintKeyForExecution: () => 'all' })),
      ).toThrow(/already registered/);
      expect(manager.constraintGroups).toHaveLength(1);
    });
  });

  describe('triggerTaskConstrained', () => {
    it('constrains the same task by its input (input-aware constraints)', async () => {
      const manager = new TaskManager();
      const recorder = new Recorder();
      manager.addConstraintGroup(
        new TaskConstraintGroup({
          name: 'tld-mutex',
          maxConcurrent: 1,
          constraintKeyForExecution: (_task, input?: string) => (input ? extractTLD(input) : null),
        }),
      );
      const getCert = new Task({ name: 'get-certificate', taskFunction: (domain?: string) => recorder.run(domain as string, 100, domain) });
      const p1 = manager.triggerTaskConstrained(getCert, 'app.example.com');
      const p2 = manager.triggerTaskConstrained(getCert, 'api.example.com');
      const p3 = manager.triggerTaskConstrained(getCert, 'my.other.org');
      const p4 = manager.triggerTaskConstrained(getCert);
      expect(recorder.order).toEqual(['app.example.com', 'my.other.org', undefined]);
      await vi.runAllTimersAsync();
      await expect(Promise.all([p1, p2, p3, p4])).resolves.toEqual([
        'app.example.com',
        'api.example.com',
        'my.other.org',
        undefined,
      ]);
      expect(recorder.startOf('api.example.com')).toBe(recorder.endOf('app.example.com'));
    });

    it('combines task data and input into one key (composite keys)', async () => {
      const manager = new TaskManager();
      const recorder = new Recorder();
      const providerDomain = new TaskConstraintGroup<{ provider: string }>({
        name: 'provider-domain',
        maxConcurrent: 1,
        constraintKeyForExecution: (task, input?: string) => `${task.data.provider}:${input || 'default'}`,
      });
      manager.addConstraintGroup(providerDomain);
      const make = (provider: string) =>
        new Task<undefined, [], { provider: string }>({
          name: provider,
          data: { provider },
          taskFunction: (input?: string) => recorder.run(`${provider}:${input}`, 50),
        });
      const acme = make('acme');
      const other = make('other');
      const runs = [
        manager.triggerTaskConstrained(acme, 'a.com'),
        manager.triggerTaskConstrained(acme, 'a.com'),
        manager.triggerTaskConstrained(other, 'a.com'),
        manager.triggerTaskConstrained(acme, 'b.com'),
      ];
      expect(recorder.running).toBe(3);
      expect(providerDomain.getRunningCount('acme:a.com')).toBe(1);
      await vi.runAllTimersAsync();
      await Promise.all(runs);
      expect(recorder.maxRunning).toBe(3);
    });

    it('skips queued work that shouldExecute declines (the certificate example)', async () => {
      const manager = new TaskManager();
      const certCache = new Map<string, string>();
      const shouldExecute = vi.fn((_task: unknown, input?: string) => {
        if (!input) return true;
        return certCache.get(extractTLD(input)) !== 'wildcard';
      });
      const certConstraint = new TaskConstraintGroup({
        name: 'cert-mutex',
        maxConcurrent: 1,
        constraintKeyForExecution: (_task, input?: string) => (input ? extractTLD(input) : null),
        shouldExecute,
      });
      const getCert = new Task({
        name: 'get-certificate',
        taskFunction: async (domain: string) => {
          await sleep(100);
          const cert = { domain, isWildcard: domain.endsWith('example.com') };
          if (cert.isWildcard) certCache.set(extractTLD(domain), 'wildcard');
          return cert;
        },
      });
      manager.addConstraintGroup(certConstraint);
      manager.addTask(getCert);
      const events: ITaskEvent[] = [];
      manager.taskSubject.subscribe((event) => events.push(event));
      const r1 = manager.triggerTaskConstrained(getCert, 'app.example.com');
      const r2 = manager.triggerTaskConstrained(getCert, 'api.example.com');
      const r3 = manager.triggerTaskConstrained(getCert, 'my.other.org');
      await vi.runAllTimersAsync();
      const [cert1, cert2, cert3] = await Promise.all([r1, r2, r3]);
      expect(cert1).toEqual({ domain: 'app.example.com', isWildcard: true });
      expect(cert2).toBeUndefined();
      expect(cert3).toEqual({ domain: 'my.other.org', isWildcard: false });
      // Asked for immediate triggers too, and again for the queued one when its turn came.
      expect(shouldExecute.mock.calls.map((call) => call[1])).toEqual(['app.example.com', 'my.other.org', 'api.example.com']);
      expect(events.map((event) => event.type)).toEqual(['started', 'queued', 'started', 'completed', 'skipped', 'completed']);
      expect(events[1]).toMatchObject({ type: 'queued', constraintGroup: 'cert-mutex', constraintKey: 'example.com' });
      expect(events[4]).toMatchObject({
        type: 'skipped',
        constraintGroup: 'cert-mutex',
        reason: 'shouldExecute of constraint group "cert-mutex" returned false',
      });
      expect(certConstraint.getRunningCount('example.com')).toBe(0);
    });

    it('asks shouldExecute after the slots are taken, for exempt triggers too, and accepts async answers', async () => {
      const manager = new TaskManager();
      const seen: Array<{ input: unknown; running: number }> = [];
      const group = new TaskConstraintGroup({
        name: 'g',
        maxConcurrent: 1,
        constraintKeyForExecution: (_task, input?: string) => input ?? null,
        shouldExecute: async (_task, input?: string) => {
          seen.push({ input, running: group.getRunningCount(input ?? 'x') });
          await sleep(10);
          return input !== 'no';
        },
      });
      manager.addConstraintGroup(group);
      const task = new Task({ name: 't', taskFunction: async (input?: string) => `ran ${input}` });
      const results = Promise.all([
        manager.triggerTaskConstrained(task, 'a'),
        manager.triggerTaskConstrained(task, 'no'),
        manager.triggerTaskConstrained(task),
      ]);
      await vi.runAllTimersAsync();
      await expect(results).resolves.toEqual(['ran a', undefined, 'ran undefined']);
      expect(seen).toEqual([
        { input: 'a', running: 1 },
        { input: 'no', running: 1 },
        { input: undefined, running: 0 },
      ]);
      expect(group.getRunningCount('no')).toBe(0);
    });

    it('runs only when every group’s shouldExecute agrees', async () => {
      const manager = new TaskManager();
      const first = vi.fn(() => true);
      const second = vi.fn(async (_task: unknown, input?: number) => input !== 2);
      manager.addConstraintGroup(new TaskConstraintGroup({ name: 'a', constraintKeyForExecution: () => null, shouldExecute: first }));
      manager.addConstraintGroup(new TaskConstraintGroup({ name: 'b', constraintKeyForExecution: () => 'k', shouldExecute: second }));
      const body = vi.fn(async (input: number) => input);
      const task = new Task({ name: 't', taskFunction: body });
      await expect(manager.triggerTaskConstrained(task, 1)).resolves.toBe(1);
      await expect(manager.triggerTaskConstrained(task, 2)).resolves.toBeUndefined();
      expect(body).toHaveBeenCalledTimes(1);
      first.mockReturnValue(false);
      await expect(manager.triggerTaskConstrained(task, 3)).resolves.toBeUndefined();
      expect(second).toHaveBeenCalledTimes(2);
    });

    it('skips a long line of queued triggers one after the other without growing the stack', async () => {
      const manager = new TaskManager();
      manager.addConstraintGroup(
        new TaskConstraintGroup({
          name: 'g',
          maxConcurrent: 1,
          constraintKeyForExecution: () => 'k',
          shouldExecute: (_task, input?: number) => input === 0,
        }),
      );
      const body = vi.fn(async () => {
        await sleep(1);
      });
      const task = new Task({ name: 't', taskFunction: body });
      const runs = Array.from({ length: 20_000 }, (_, input) => manager.triggerTaskConstrained(task, input));
      await vi.runAllTimersAsync();
      const results = await Promise.all(runs);
      expect(body).toHaveBeenCalledTimes(1);
      expect(results.filter((result) => result !== undefined)).toEqual([]);
    });

    it('does not start a cooldown for a skipped trigger', async () => {
      const manager = new TaskManager();
      const recorder = new Recorder();
      const group = new TaskConstraintGroup({
        name: 'g',
        maxConcurrent: 1,
        cooldownMs: 1000,
        constraintKeyForExecution: () => 'k',
        shouldExecute: (_task, input?: string) => input !== 'skip',
      });
      manager.addConstraintGroup(group);
      const task = new Task({ name: 't', taskFunction: (input: string) => recorder.run(input, 10) });
      await expect(manager.triggerTaskConstrained(task, 'skip')).resolves.toBeUndefined();
      expect(group.getCooldownRemaining('k')).toBe(0);
      const run = manager.triggerTaskConstrained(task, 'run');
      expect(recorder.order).toEqual(['run']);
      await vi.runAllTimersAsync();
      await run;
    });

    it('releases slots only once the task function has really returned, also after a timeout', async () => {
      const manager = new TaskManager();
      const recorder = new Recorder();
      const group = new TaskConstraintGroup({ name: 'g', maxConcurrent: 1, constraintKeyForExecution: () => 'k' });
      manager.addConstraintGroup(group);
      const slow = new Task({ name: 'slow', timeout: 10, taskFunction: () => recorder.run('slow', 50) });
      const next = new Task({ name: 'next', taskFunction: () => recorder.run('next', 5) });
      const first = manager.triggerTask(slow);
      const firstSettled = expect(first).rejects.toBeInstanceOf(TaskTimeoutError);
      const second = manager.triggerTask(next);
      await vi.advanceTimersByTimeAsync(10);
      await firstSettled;
      expect(group.getRunningCount('k')).toBe(1);
      expect(recorder.order).toEqual(['slow']);
      await vi.runAllTimersAsync();
      await second;
      expect(recorder.startOf('next')).toBe(recorder.endOf('slow'));
      expect(recorder.startOf('next')).toBeGreaterThanOrEqual(50);
    });

    it('releases slots when a run fails, and the waiting trigger runs', async () => {
      const manager = new TaskManager();
      const group = new TaskConstraintGroup({ name: 'g', maxConcurrent: 1, constraintKeyForExecution: () => 'k' });
      manager.addConstraintGroup(group);
      const failing = new Task({ name: 'failing', taskFunction: async () => { await sleep(5); throw new Error('boom'); } });
      const swallowing = new Task({ name: 'swallowing', catchErrors: true, taskFunction: async () => { throw new Error('quiet'); } });
      const ok = new Task({ name: 'ok', taskFunction: async () => 'ok' });
      const runs = [manager.triggerTask(failing), manager.triggerTask(swallowing), manager.triggerTask(ok)];
      const expectations = [expect(runs[0]).rejects.toThrow('boom'), expect(runs[1]).resolves.toBeUndefined(), expect(runs[2]).resolves.toBe('ok')];
      await vi.runAllTimersAsync();
      await Promise.all(expectations);
      expect(group.getRunningCount('k')).toBe(0);
    });

    it('rejects with the cause when constraintKeyForExecution throws, and leaks no slot', async () => {
      const manager = new TaskManager();
      const cap = new TaskConstraintGroup({ name: 'cap', maxConcurrent: 1, constraintKeyForExecution: () => 'all' });
      const broken = new TaskConstraintGroup({
        name: 'broken',
        constraintKeyForExecution: (_task, input?: string) => {
          if (input === 'bad') throw new Error('no key');
          if (input === 'number') return 7 as unknown as string;
          return 'ok';
        },
      });
      manager.addConstraintGroup(cap);
      manager.addConstraintGroup(broken);
      const task = new Task({ name: 'job', taskFunction: async () => 'done' });
      const error = await manager.triggerTaskConstrained(task, 'bad').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConstraintCallbackError);
      expect(error).toMatchObject({
        message: '`constraintKeyForExecution` of constraint group "broken" failed for task "job": no key',
        taskName: 'job',
        constraintGroup: 'broken',
        callback: 'constraintKeyForExecution',
      });
      expect((error as Error).cause).toEqual(new Error('no key'));
      await expect(manager.triggerTaskConstrained(task, 'number')).rejects.toThrow(/return a string or null, got `7`/);
      expect(cap.getRunningCount('all')).toBe(0);
      expect(cap.getSnapshot().keys).toEqual([]);
      await expect(manager.triggerTaskConstrained(task, 'fine')).resolves.toBe('done');
    });

    it('rejects with the cause when shouldExecute throws or rejects, and frees the slots for what waits', async () => {
      const manager = new TaskManager();
      const group = new TaskConstraintGroup({
        name: 'g',
        maxConcurrent: 1,
        constraintKeyForExecution: () => 'k',
        shouldExecute: (_task, input?: string) => {
          if (input === 'throw') throw new Error('sync failure');
          if (input === 'reject') return Promise.reject(new Error('async failure'));
          return true;
        },
      });
      manager.addConstraintGroup(group);
      const task = new Task({ name: 'job', taskFunction: async (input: string) => input });
      const runs = [
        manager.triggerTaskConstrained(task, 'throw'),
        manager.triggerTaskConstrained(task, 'reject'),
        manager.triggerTaskConstrained(task, 'fine'),
      ];
      await expect(runs[0]).rejects.toMatchObject({ callback: 'shouldExecute', cause: new Error('sync failure') });
      await expect(runs[1]).rejects.toBeInstanceOf(ConstraintCallbackError);
      await expect(runs[2]).resolves.toBe('fine');
      expect(group.getRunningCount('k')).toBe(0);
    });
  });

  describe('every path that starts a task', () => {
    it('goes through the constraints for triggerTaskByName, addExecuteRemoveTask and scheduled runs', async () => {
      let host: SchedulerHost | undefined;
      const scheduler: SchedulerPort = {
        schedule: () => {},
        unschedule: () => true,
        start: (given) => {
          host = given;
        },
        stop: () => {},
        getScheduledTasks: () => [],
        getNextScheduledRuns: () => [],
        getSchedule: () => undefined,
      };
      const manager = new TaskManager({ scheduler });
      await manager.start();
      const group = new TaskConstraintGroup({ name: 'mutex', maxConcurrent: 1, constraintKeyForExecution: () => 'all' });
      manager.addConstraintGroup(group);
      const recorder = new Recorder();
      const named = new Task({ name: 'named', taskFunction: () => recorder.run('named', 100, 'n') });
      const oneShot = new Task({ name: 'one-shot', taskFunction: () => recorder.run('one-shot', 100, 'o') });
      const scheduled = new Task({ name: 'scheduled', taskFunction: () => recorder.run('scheduled', 100) });
      manager.addTask(named);
      manager.addTask(scheduled);
      const byName = manager.triggerTaskByName('named');
      const report = manager.addExecuteRemoveTask(oneShot);
      const tick = host!.runScheduledTask('scheduled', { scheduledTime: Date.now() });
      expect(recorder.order).toEqual(['named']);
      expect(group.getSnapshot().keys).toEqual([{ key: 'all', running: 1, queued: 2, cooldownRemainingMs: 0 }]);
      await vi.runAllTimersAsync();
      await expect(byName).resolves.toBe('n');
      await expect(report).resolves.toMatchObject({ taskName: 'one-shot', result: 'o' });
      await tick;
      expect(recorder.order).toEqual(['named', 'one-shot', 'scheduled']);
      expect(recorder.maxRunning).toBe(1);
      await manager.stop();
    });
  });

  describe('addAndScheduleTask', () => {
    it('holds cron runs of two tasks to one at a time and to the cooldown', async () => {
      vi.setSystemTime(new Date('2026-01-01T00:00:00.000Z'));
      const manager = new TaskManager({ scheduler: new CronScheduler({ timezone: 'UTC' }) });
      const group = new TaskConstraintGroup<{ account: string }>({
        name: 'per-account',
        maxConcurrent: 1,
        cooldownMs: 500,
        constraintKeyForExecution: (task) => task.data.account,
      });
      manager.addConstraintGroup(group);
      const recorder = new Recorder();
      const make = (name: string) =>
        new Task<undefined, [], { account: string }>({
          name,
          data: { account: 'acme' },
          taskFunction: () => recorder.run(name, 1200),
        });
      manager.addAndScheduleTask(make('sync'), '* * * * * *');
      manager.addAndScheduleTask(make('report'), '* * * * * *');
      await manager.start();
      await vi.advanceTimersByTimeAsync(10_000);
      await manager.stop({ timeoutMs: 0 });
      await vi.runAllTimersAsync();
      expect(recorder.starts.length).toBeGreaterThanOrEqual(4);
      expect(recorder.maxRunning).toBe(1);
      const runs = recorder.starts.map((start, index) => ({ start: start.at, end: recorder.ends[index]!.at }));
      for (let index = 1; index < runs.length; index++) {
        expect(runs[index]!.start - runs[index - 1]!.end).toBeGreaterThanOrEqual(500);
      }
      expect(new Set(recorder.order)).toEqual(new Set(['sync', 'report']));
    });
  });

  describe('removeConstraintGroup', () => {
    it('re-evaluates what waited on the removed group', async () => {
      const manager = new TaskManager();
      const recorder = new Recorder();
      const mutex = new TaskConstraintGroup({ name: 'domain-mutex', maxConcurrent: 1, constraintKeyForExecution: () => 'k' });
      const cap = new TaskConstraintGroup({ name: 'cap', maxConcurrent: 2, constraintKeyForExecution: () => 'all' });
      manager.addConstraintGroup(mutex);
      manager.addConstraintGroup(cap);
      const task = new Task({ name: 't', taskFunction: (input: number) => recorder.run(`r${input}`, 100, input) });
      const runs = [1, 2, 3, 4].map((input) => manager.triggerTask(task, input));
      expect(recorder.order).toEqual(['r1']);
      expect(manager.removeConstraintGroup('domain-mutex')).toBe(true);
      // Still held by the cap of 2, oldest first.
      expect(recorder.order).toEqual(['r1', 'r2']);
      expect(cap.getSnapshot().keys).toEqual([{ key: 'all', running: 2, queued: 2, cooldownRemainingMs: 0 }]);
      expect(manager.removeConstraintGroup(cap)).toBe(true);
      expect(recorder.order).toEqual(['r1', 'r2', 'r3', 'r4']);
      await vi.runAllTimersAsync();
      await expect(Promise.all(runs)).resolves.toEqual([1, 2, 3, 4]);
      expect(mutex.getRunningCount('k')).toBe(0);
      expect(manager.removeConstraintGroup('cap')).toBe(false);
    });
  });

  describe('removeConstraintGroup, with a group shared by two managers', () => {
    it('gives up the slots its waiters kept in the group, so the other manager’s triggers go on', async () => {
      type Needs = { shared?: boolean; own?: boolean; label: string; ms: number };
      const shared = new TaskConstraintGroup({ name: 'shared', maxConcurrent: 1, constraintKeyForExecution: (_task, input?: Needs) => (input?.shared ? 'k' : null) });
      const own = new TaskConstraintGroup({ name: 'own', maxConcurrent: 1, constraintKeyForExecution: (_task, input?: Needs) => (input?.own ? 'h' : null) });
      const first = new TaskManager();
      const second = new TaskManager();
      first.addConstraintGroup(shared);
      first.addConstraintGroup(own);
      second.addConstraintGroup(shared);
      const recorder = new Recorder();
      const task = new Task({ name: 't', taskFunction: (input: Needs) => recorder.run(input.label, input.ms) });
      const runs = [
        first.triggerTask(task, { shared: true, label: 'holds k', ms: 10 }),
        first.triggerTask(task, { own: true, label: 'holds h', ms: 100 }),
        // Waits on k; when k frees at 10 ms it keeps k reserved while it waits for h.
        first.triggerTask(task, { shared: true, own: true, label: 'needs both', ms: 10 }),
      ];
      await vi.advanceTimersByTimeAsync(20);
      runs.push(second.triggerTask(task, { shared: true, label: 'other manager', ms: 10 }));
      expect(recorder.order).toEqual(['holds k', 'holds h']);
      first.removeConstraintGroup(shared);
      expect(recorder.order).toEqual(['holds k', 'holds h', 'other manager']);
      await vi.runAllTimersAsync();
      await Promise.all(runs);
      expect(recorder.order).toEqual(['holds k', 'holds h', 'other manager', 'needs both']);
    });
  });

  describe('reset', () => {
    it('frees the slots for waiting triggers without counting old runs twice', async () => {
      const manager = new TaskManager();
      const recorder = new Recorder();
      const group = new TaskConstraintGroup({ name: 'g', maxConcurrent: 1, cooldownMs: 1000, constraintKeyForExecution: () => 'k' });
      manager.addConstraintGroup(group);
      const task = new Task({ name: 't', taskFunction: (input: number) => recorder.run(`r${input}`, 100) });
      const runs = [1, 2, 3].map((input) => manager.triggerTask(task, input));
      expect(recorder.order).toEqual(['r1']);
      group.reset();
      // The waiting trigger starts at once; r1 keeps running.
      expect(recorder.order).toEqual(['r1', 'r2']);
      expect(group.getRunningCount('k')).toBe(1);
      await vi.advanceTimersByTimeAsync(100);
      // r1 and r2 ended: the release of r1 (taken before the reset) did not free a second slot.
      expect(recorder.order).toEqual(['r1', 'r2']);
      expect(group.getRunningCount('k')).toBe(0);
      expect(group.getCooldownRemaining('k')).toBe(1000);
      await vi.runAllTimersAsync();
      await Promise.all(runs);
      expect(recorder.startOf('r3') - recorder.endOf('r2')).toBe(1000);
    });
  });

  describe('stop', () => {
    it('rejects triggers still waiting with an error naming the task and clears cooldown timers', async () => {
      const manager = new TaskManager();
      manager.addConstraintGroup(
        new TaskConstraintGroup({ name: 'slow-lane', maxConcurrent: 1, cooldownMs: 5000, constraintKeyForExecution: () => 'k' }),
      );
      const task = new Task({ name: 'renew-cert', taskFunction: async () => 'renewed' });
      const first = manager.triggerTask(task);
      const second = manager.triggerTask(task);
      const third = manager.triggerTask(task);
      await expect(first).resolves.toBe('renewed');
      expect(vi.getTimerCount()).toBe(1);
      await manager.stop();
      await expect(second).rejects.toBeInstanceOf(TaskCancelledError);
      await expect(third).rejects.toThrow('Task "renew-cert" was cancelled before it ran: the TaskManager was stopped');
      // Left: the unref'd timer that drops the key once its cooldown has ended.
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(5000);
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  describe('cooldowns longer than a timer can wait', () => {
    const MAX_TIMER_DELAY = 2 ** 31 - 1;
    const DAY = 24 * 60 * 60 * 1000;

    /** The system clock (faked by vitest), recording every delay asked for. */
    function recordingClock(delays: number[]): Clock {
      return {
        now: () => systemClock.now(),
        setTimeout: (callback, delay, options) => {
          delays.push(delay);
          return systemClock.setTimeout(callback, delay, options);
        },
        clearTimeout: (handle) => systemClock.clearTimeout(handle),
      };
    }

    it('waits a 30-day cooldown out with a few timers, never starting early and never asking for more than 2^31 − 1 ms', async () => {
      const delays: number[] = [];
      const manager = new TaskManager({ clock: recordingClock(delays) });
      manager.addConstraintGroup(
        new TaskConstraintGroup({ name: 'monthly', maxConcurrent: 1, cooldownMs: 30 * DAY, constraintKeyForExecution: () => 'k' }),
      );
      const recorder = new Recorder();
      const task = new Task({ name: 'renew', taskFunction: (input: string) => recorder.run(input, 10, input) });
      const warning = vi.spyOn(process, 'emitWarning');
      const first = manager.triggerTask(task, 'first');
      const second = manager.triggerTask(task, 'second');
      await vi.advanceTimersByTimeAsync(10);
      await expect(first).resolves.toBe('first');
      // One timer for the cooldown, not one per millisecond.
      await vi.advanceTimersByTimeAsync(1000);
      expect(delays).toEqual([MAX_TIMER_DELAY]);
      await vi.advanceTimersByTimeAsync(60 * 60 * 1000 - 1000);
      expect(recorder.order).toEqual(['first']);
      expect(delays.length).toBeLessThanOrEqual(1);
      await vi.advanceTimersByTimeAsync(30 * DAY - 60 * 60 * 1000 - 1);
      expect(recorder.order).toEqual(['first']);
      await vi.advanceTimersByTimeAsync(1);
      expect(recorder.order).toEqual(['first', 'second']);
      await vi.advanceTimersByTimeAsync(10);
      await expect(second).resolves.toBe('second');
      expect(recorder.startOf('second') - recorder.endOf('first')).toBe(30 * DAY);
      expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_TIMER_DELAY);
      // 30 days is about 1.2 times 2^31 − 1 ms: two timers, three at most.
      expect(delays.length).toBeLessThanOrEqual(3);
      expect(warning).not.toHaveBeenCalled();
      warning.mockRestore();
      await manager.stop();
    });

    it('re-arms for the rest of the cooldown when a timer fires early, without spinning', async () => {
      const delays: number[] = [];
      // A clock whose timers end 40 % early.
      const early: Clock = {
        now: () => systemClock.now(),
        setTimeout: (callback, delay, options) => {
          delays.push(delay);
          return systemClock.setTimeout(callback, Math.max(1, Math.floor(delay * 0.6)), options);
        },
        clearTimeout: (handle) => systemClock.clearTimeout(handle),
      };
      const manager = new TaskManager({ clock: early });
      manager.addConstraintGroup(
        new TaskConstraintGroup({ name: 'slow', maxConcurrent: 1, cooldownMs: 10_000, constraintKeyForExecution: () => 'k' }),
      );
      const recorder = new Recorder();
      const task = new Task({ name: 'call', taskFunction: (input: string) => recorder.run(input, 0, input) });
      const runs = [manager.triggerTask(task, 'a'), manager.triggerTask(task, 'b')];
      await vi.runAllTimersAsync();
      await Promise.all(runs);
      expect(recorder.startOf('b') - recorder.endOf('a')).toBe(10_000);
      // 10 s, 4 s, 1.6 s, … down to 1 ms: about 20 timers, not thousands.
      expect(delays.length).toBeLessThan(30);
      await manager.stop();
    });
  });

  describe('fairness', () => {
    it('starts triggers of one key in trigger order', async () => {
      const manager = new TaskManager();
      const recorder = new Recorder();
      manager.addConstraintGroup(
        new TaskConstraintGroup({ name: 'pair', maxConcurrent: 2, constraintKeyForExecution: (_task, input?: number) => `k${(input ?? 0) % 2}` }),
      );
      const task = new Task({ name: 't', taskFunction: (input: number) => recorder.run(String(input), 10 + ((input * 7) % 13)) });
      const runs = Array.from({ length: 20 }, (_, input) => manager.triggerTask(task, input));
      await vi.runAllTimersAsync();
      await Promise.all(runs);
      const even = recorder.order.filter((label) => Number(label) % 2 === 0);
      const odd = recorder.order.filter((label) => Number(label) % 2 === 1);
      expect(even).toEqual(['0', '2', '4', '6', '8', '10', '12', '14', '16', '18']);
      expect(odd).toEqual(['1', '3', '5', '7', '9', '11', '13', '15', '17', '19']);
    });

    it('lets a trigger use a free key that an older waiter needs but does not wait on, never the key it waits on', async () => {
      const manager = new TaskManager();
      const recorder = new Recorder();
      // Group A and group B; each trigger says which keys it needs.
      type Needs = { a?: string; b?: string; label: string; ms: number };
      manager.addConstraintGroup(
        new TaskConstraintGroup({ name: 'A', maxConcurrent: 1, constraintKeyForExecution: (_task, input?: Needs) => input?.a ?? null }),
      );
      manager.addConstraintGroup(
        new TaskConstraintGroup({ name: 'B', maxConcurrent: 1, constraintKeyForExecution: (_task, input?: Needs) => input?.b ?? null }),
      );
      const events: ITaskEvent[] = [];
      manager.taskSubject.subscribe((event) => events.push(event));
      const task = new Task({ name: 't', taskFunction: (input: Needs) => recorder.run(input.label, input.ms) });
      manager.addTask(task);
      const runs = [
        manager.triggerTask(task, { b: 'y', label: 'holds B', ms: 100 }),
        manager.triggerTask(task, { a: 'x', b: 'y', label: 'needs A and B', ms: 100 }),
        manager.triggerTask(task, { a: 'x', label: 'needs A', ms: 50 }),
        manager.triggerTask(task, { b: 'y', label: 'needs B', ms: 10 }),
      ];
      // "needs A and B" waits on B; A is free, so "needs A" (younger) may use it;
      // "needs B" queues behind the older waiter on B.
      expect(recorder.order).toEqual(['holds B', 'needs A']);
      expect(events.filter((event) => event.type === 'queued').map((event) => event.constraintGroup)).toEqual(['B', 'B']);
      await vi.advanceTimersByTimeAsync(100);
      expect(recorder.order).toEqual(['holds B', 'needs A', 'needs A and B']);
      await vi.runAllTimersAsync();
      await Promise.all(runs);
      expect(recorder.order).toEqual(['holds B', 'needs A', 'needs A and B', 'needs B']);
    });

    it('keeps a freed key for a trigger that moved on to its other key, so younger single-key triggers cannot starve it', async () => {
      const manager = new TaskManager();
      const recorder = new Recorder();
      type Needs = { tenant?: string; global?: boolean; label: string };
      manager.addConstraintGroup(
        new TaskConstraintGroup({ name: 'per-tenant', maxConcurrent: 1, constraintKeyForExecution: (_task, input?: Needs) => input?.tenant ?? null }),
      );
      manager.addConstraintGroup(
        new TaskConstraintGroup({ name: 'global', maxConcurrent: 1, constraintKeyForExecution: (_task, input?: Needs) => (input?.global ? 'all' : null) }),
      );
      const task = new Task({ name: 't', taskFunction: (input: Needs) => recorder.run(input.label, 10) });
      const startedAt = Date.now();
      const runs = [
        manager.triggerTask(task, { tenant: 'acme', label: 'tenant 0' }),
        manager.triggerTask(task, { global: true, label: 'global 0' }),
        manager.triggerTask(task, { tenant: 'acme', global: true, label: 'both' }),
      ];
      // A steady load of younger triggers, each needing one of the two keys.
      for (let index = 1; index <= 100; index++) {
        runs.push(manager.triggerTask(task, { tenant: 'acme', label: `tenant ${index}` }));
        runs.push(manager.triggerTask(task, { global: true, label: `global ${index}` }));
      }
      await vi.runAllTimersAsync();
      await Promise.all(runs);
      // "both" waits for the two runs that hold its keys, and for no younger trigger.
      expect(recorder.order.indexOf('both')).toBe(2);
      expect(recorder.startOf('both') - startedAt).toBe(10);
      expect(recorder.starts).toHaveLength(203);
    });

    it('never starts a trigger before an older one that waits for a subset of its keys', async () => {
      const manager = new TaskManager();
      const recorder = new Recorder();
      type Needs = { a?: string; b?: string; label: string };
      manager.addConstraintGroup(
        new TaskConstraintGroup({ name: 'A', maxConcurrent: 1, constraintKeyForExecution: (_task, input?: Needs) => input?.a ?? null }),
      );
      manager.addConstraintGroup(
        new TaskConstraintGroup({ name: 'B', maxConcurrent: 1, cooldownMs: 20, constraintKeyForExecution: (_task, input?: Needs) => input?.b ?? null }),
      );
      const task = new Task({ name: 't', taskFunction: (input: Needs) => recorder.run(input.label, 10) });
      const runs = [
        manager.triggerTask(task, { a: 'x', label: 'first A' }),
        manager.triggerTask(task, { b: 'y', label: 'first B' }),
        manager.triggerTask(task, { b: 'y', label: 'older, needs B' }),
        manager.triggerTask(task, { a: 'x', b: 'y', label: 'younger, needs A and B' }),
      ];
      await vi.runAllTimersAsync();
      await Promise.all(runs);
      expect(recorder.order).toEqual(['first A', 'first B', 'older, needs B', 'younger, needs A and B']);
    });
  });
});
