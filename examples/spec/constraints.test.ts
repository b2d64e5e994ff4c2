import { TaskConstraintGroup } from '@taskbuffer/constraints';
import { type ITaskEvent, Task, TaskManager } from '@taskbuffer/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OverlapCounter } from './support/console.js';

// README § Task Constraints. Each `it` holds one example, verbatim but for the
// import line; stand-ins (and, where an example continues an earlier one, that
// earlier code) come first, assertions after.

/** A task of `data` that takes `ms` (fake time) and counts overlaps. */
function timedTask<TData extends object>(name: string, data: TData, ms: number, counter: OverlapCounter, starts?: number[]) {
  return new Task<undefined, [], TData>({
    name,
    data,
    taskFunction: async () => {
      counter.enter();
      starts?.push(Date.now());
      await new Promise((resolve) => setTimeout(resolve, ms));
      counter.leave();
      return name;
    },
  });
}

describe('README: Task Constraints', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('Per-Key Mutual Exclusion', async () => {
    const manager = new TaskManager();

    // Only one DNS update per domain at a time
    const domainMutex = new TaskConstraintGroup<{ domain: string }>({
      name: 'domain-mutex',
      maxConcurrent: 1,
      constraintKeyForExecution: (task, input?) => task.data.domain,
    });

    manager.addConstraintGroup(domainMutex);

    const task1 = new Task<undefined, [], { domain: string }>({
      name: 'update-a.com',
      data: { domain: 'a.com' },
      taskFunction: async () => { /* update DNS for a.com */ },
    });

    const task2 = new Task<undefined, [], { domain: string }>({
      name: 'update-a.com-2',
      data: { domain: 'a.com' },
      taskFunction: async () => { /* another update for a.com */ },
    });

    manager.addTask(task1);
    manager.addTask(task2);

    const events: string[] = [];
    manager.taskSubject.subscribe((event: ITaskEvent) => events.push(`${event.type} ${event.task.name}`));

    // task2 waits until task1 finishes (same domain key)
    await Promise.all([
      manager.triggerTask(task1),
      manager.triggerTask(task2),
    ]);

    // Without the group task2 would start before task1 completes.
    expect(events.filter((line) => !line.startsWith('queued'))).toEqual([
      'started update-a.com',
      'completed update-a.com',
      'started update-a.com-2',
      'completed update-a.com-2',
    ]);
    expect(events).toContain('queued update-a.com-2');
    expect(task1.runCount).toBe(1);
    expect(task2.runCount).toBe(1);
  });

  it('Group Concurrency Limits', async () => {
    const manager = new TaskManager();

    // Max 3 DNS updaters running globally at once
    const dnsLimit = new TaskConstraintGroup<{ group: string }>({
      name: 'dns-concurrency',
      maxConcurrent: 3,
      constraintKeyForExecution: (task) =>
        task.data.group === 'dns' ? 'dns' : null, // null = skip constraint
    });

    manager.addConstraintGroup(dnsLimit);

    const dns = new OverlapCounter();
    const other = new OverlapCounter();
    const tasks = [
      ...Array.from({ length: 7 }, (_, i) => timedTask(`dns-${i}`, { group: 'dns' }, 100, dns)),
      ...Array.from({ length: 5 }, (_, i) => timedTask(`mail-${i}`, { group: 'mail' }, 100, other)),
    ];
    for (const task of tasks) manager.addTask(task);
    const all = Promise.all(tasks.map((task) => manager.triggerTask(task)));
    await vi.advanceTimersByTimeAsync(0);
    expect(dns.current).toBe(3);
    expect(other.current).toBe(5); // exempt: not limited
    await vi.advanceTimersByTimeAsync(300);
    expect(await all).toEqual(tasks.map((task) => task.name));
    expect(dns.max).toBe(3);
    expect(dnsLimit.getRunningCount('dns')).toBe(0);
  });

  it('Cooldowns (Rate Limiting)', async () => {
    const manager = new TaskManager();

    // No more than one API call per domain every 11 seconds
    const rateLimiter = new TaskConstraintGroup<{ domain: string }>({
      name: 'api-rate-limit',
      maxConcurrent: 1,
      cooldownMs: 11000,
      constraintKeyForExecution: (task) => task.data.domain,
    });

    manager.addConstraintGroup(rateLimiter);

    const counter = new OverlapCounter();
    const starts: number[] = [];
    const otherStarts: number[] = [];
    const call = timedTask('call-a', { domain: 'a.com' }, 1000, counter, starts);
    const callOther = timedTask('call-b', { domain: 'b.com' }, 1000, new OverlapCounter(), otherStarts);
    const runs = [manager.triggerTask(call), manager.triggerTask(call), manager.triggerTask(callOther), manager.triggerTask(call)];
    await vi.advanceTimersByTimeAsync(0);
    expect(rateLimiter.getRunningCount('a.com')).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    // The first run ended at 1000: the next may start at 12000.
    expect(rateLimiter.getCooldownRemaining('a.com')).toBe(11000);
    await vi.advanceTimersByTimeAsync(40_000);
    await Promise.all(runs);
    expect(starts).toEqual([0, 12_000, 24_000]);
    expect(otherStarts).toEqual([0]); // another domain is not held back
    expect(counter.max).toBe(1);
  });

  it('Global Concurrency Cap', async () => {
    const manager = new TaskManager();

    const globalCap = new TaskConstraintGroup({
      name: 'global-cap',
      maxConcurrent: 10,
      constraintKeyForExecution: () => 'all', // same key = shared limit
    });

    manager.addConstraintGroup(globalCap);

    const counter = new OverlapCounter();
    const tasks = Array.from({ length: 25 }, (_, i) => timedTask(`job-${i}`, {}, 100, counter));
    const all = Promise.all(tasks.map((task) => manager.triggerTask(task)));
    await vi.advanceTimersByTimeAsync(0);
    expect(counter.current).toBe(10);
    expect(globalCap.canRun('all')).toBe(false);
    await vi.advanceTimersByTimeAsync(300);
    await all;
    expect(counter.max).toBe(10);
    expect(globalCap.canRun('all')).toBe(true);
  });

  it('Composing Multiple Constraints', async () => {
    // The three groups of the examples above, on one manager.
    const manager = new TaskManager();
    const globalCap = new TaskConstraintGroup({
      name: 'global-cap',
      maxConcurrent: 10,
      constraintKeyForExecution: () => 'all', // same key = shared limit
    });
    const domainMutex = new TaskConstraintGroup<{ domain: string }>({
      name: 'domain-mutex',
      maxConcurrent: 1,
      constraintKeyForExecution: (task, input?) => task.data.domain,
    });
    const rateLimiter = new TaskConstraintGroup<{ domain: string }>({
      name: 'api-rate-limit',
      maxConcurrent: 1,
      cooldownMs: 11000,
      constraintKeyForExecution: (task) => task.data.domain,
    });
    const starts: number[] = [];
    const dnsTask = timedTask('dns', { domain: 'example.com' }, 500, new OverlapCounter(), starts);

    manager.addConstraintGroup(globalCap); // max 10 globally
    manager.addConstraintGroup(domainMutex); // max 1 per domain
    manager.addConstraintGroup(rateLimiter); // 11s cooldown per domain

    // A task must satisfy ALL three constraints before it starts
    const first = manager.triggerTask(dnsTask);
    await vi.advanceTimersByTimeAsync(500);
    await expect(first).resolves.toBe('dns');

    // Same domain again: held by the 11 s cooldown of `api-rate-limit`.
    const second = manager.triggerTask(dnsTask);
    await vi.advanceTimersByTimeAsync(10_999);
    expect(starts).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1 + 500);
    await expect(second).resolves.toBe('dns');
    expect(starts).toEqual([0, 11_500]);
  });

  it('Selective Constraints', async () => {
    const constraint = new TaskConstraintGroup<{ priority: string }>({
      name: 'low-priority-limit',
      maxConcurrent: 2,
      constraintKeyForExecution: (task) =>
        task.data.priority === 'low' ? 'low-priority' : null, // high priority tasks skip this constraint
    });

    const manager = new TaskManager();
    manager.addConstraintGroup(constraint);
    const low = new OverlapCounter();
    const high = new OverlapCounter();
    const tasks = [
      ...Array.from({ length: 5 }, (_, i) => timedTask(`low-${i}`, { priority: 'low' }, 100, low)),
      ...Array.from({ length: 4 }, (_, i) => timedTask(`high-${i}`, { priority: 'high' }, 100, high)),
    ];
    const all = Promise.all(tasks.map((task) => manager.triggerTask(task)));
    await vi.advanceTimersByTimeAsync(0);
    expect([low.current, high.current]).toEqual([2, 4]);
    expect(constraint.getConstraintKey(tasks[0]!)).toBe('low-priority');
    expect(constraint.getConstraintKey(tasks[5]!)).toBeNull();
    await vi.advanceTimersByTimeAsync(300);
    await all;
    expect(low.max).toBe(2);
  });

  it('Input-Aware Constraints', async () => {
    const manager = new TaskManager();
    const starts: Record<string, number> = {};
    const getCert = new Task({
      name: 'get-certificate',
      taskFunction: async (domain: string) => {
        starts[domain] = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 1000));
        return domain;
      },
    });

    const extractTLD = (domain: string) => {
      const parts = domain.split('.');
      return parts.slice(-2).join('.');
    };

    // Same TLD → serialized. Different TLDs → parallel.
    const tldMutex = new TaskConstraintGroup({
      name: 'tld-mutex',
      maxConcurrent: 1,
      constraintKeyForExecution: (task, input?: string) => {
        if (!input) return null;
        return extractTLD(input); // "example.com", "other.org", etc.
      },
    });

    manager.addConstraintGroup(tldMutex);

    // These two serialize (same TLD "example.com")
    const p1 = manager.triggerTaskConstrained(getCert, 'app.example.com');
    const p2 = manager.triggerTaskConstrained(getCert, 'api.example.com');

    // This runs in parallel (different TLD "other.org")
    const p3 = manager.triggerTaskConstrained(getCert, 'my.other.org');

    await vi.advanceTimersByTimeAsync(2000);
    expect(await Promise.all([p1, p2, p3])).toEqual(['app.example.com', 'api.example.com', 'my.other.org']);
    expect(starts).toEqual({ 'app.example.com': 0, 'my.other.org': 0, 'api.example.com': 1000 });
    expect(tldMutex.getConstraintKey(getCert)).toBeNull();
  });

  it('Input-Aware Constraints: composite keys from task.data and input', async () => {
    const providerDomain = new TaskConstraintGroup<{ provider: string }>({
      name: 'provider-domain',
      maxConcurrent: 1,
      constraintKeyForExecution: (task, input?: string) => {
        return `${task.data.provider}:${input || 'default'}`;
      },
    });

    const manager = new TaskManager();
    manager.addConstraintGroup(providerDomain);
    const starts: Array<[string, number]> = [];
    const renew = new Task<undefined, [], { provider: string }>({
      name: 'renew',
      data: { provider: 'acme' },
      taskFunction: async (domain?: string) => {
        starts.push([domain ?? 'default', Date.now()]);
        await new Promise((resolve) => setTimeout(resolve, 100));
      },
    });
    expect(providerDomain.getConstraintKey(renew, 'a.com')).toBe('acme:a.com');
    expect(providerDomain.getConstraintKey(renew)).toBe('acme:default');
    const runs = [manager.triggerTask(renew, 'a.com'), manager.triggerTask(renew, 'a.com'), manager.triggerTask(renew, 'b.com')];
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all(runs);
    expect(starts).toEqual([
      ['a.com', 0],
      ['b.com', 0],
      ['a.com', 100],
    ]);
  });

  it('Pre-Execution Check with shouldExecute', async () => {
    // Stand-in for the ACME client: *.example.com gets a wildcard certificate.
    const issued: string[] = [];
    const acme = {
      getCert: async (domain: string) => {
        issued.push(domain);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        return { domain, isWildcard: domain.endsWith('example.com') };
      },
    };
    const manager = new TaskManager();
    const extractTLD = (domain: string) => {
      const parts = domain.split('.');
      return parts.slice(-2).join('.');
    };

    const certCache = new Map<string, string>();

    const certConstraint = new TaskConstraintGroup({
      name: 'cert-mutex',
      maxConcurrent: 1,
      constraintKeyForExecution: (task, input?: string) => {
        if (!input) return null;
        return extractTLD(input);
      },
      shouldExecute: (task, input?: string) => {
        if (!input) return true;
        // Skip if a wildcard cert already covers this TLD
        return certCache.get(extractTLD(input)) !== 'wildcard';
      },
    });

    const getCert = new Task({
      name: 'get-certificate',
      taskFunction: async (domain: string) => {
        const cert = await acme.getCert(domain);
        if (cert.isWildcard) certCache.set(extractTLD(domain), 'wildcard');
        return cert;
      },
    });

    manager.addConstraintGroup(certConstraint);
    manager.addTask(getCert);

    const r1 = manager.triggerTaskConstrained(getCert, 'app.example.com'); // runs, gets wildcard
    const r2 = manager.triggerTaskConstrained(getCert, 'api.example.com'); // queued → skipped!
    const r3 = manager.triggerTaskConstrained(getCert, 'my.other.org'); // parallel (different TLD)

    await vi.advanceTimersByTimeAsync(1000);
    const [cert1, cert2, cert3] = await Promise.all([r1, r2, r3]);
    // cert2 === undefined (skipped because wildcard already covers example.com)

    expect(cert1).toEqual({ domain: 'app.example.com', isWildcard: true });
    expect(cert2).toBeUndefined();
    expect(cert3).toEqual({ domain: 'my.other.org', isWildcard: false });
    expect(issued).toEqual(['app.example.com', 'my.other.org']);
    expect(getCert.runCount).toBe(2);

    // "Also checked on immediate (non-queued) triggers"
    await expect(manager.triggerTaskConstrained(getCert, 'www.example.com')).resolves.toBeUndefined();
    expect(issued).toHaveLength(2);
    // The group's own check, as in the API table.
    await expect(certConstraint.checkShouldExecute(getCert, 'x.example.com')).resolves.toBe(false);
    await expect(certConstraint.checkShouldExecute(getCert, 'x.other.org')).resolves.toBe(true);
  });

  it('shouldExecute semantics: async checks, and all groups must agree', async () => {
    const manager = new TaskManager();
    const allow = new Set(['a', 'b']);
    manager.addConstraintGroup(
      new TaskConstraintGroup({
        name: 'async-check',
        constraintKeyForExecution: () => null,
        shouldExecute: async (_task, input?: string) => input !== undefined && allow.has(input),
      }),
    );
    manager.addConstraintGroup(
      new TaskConstraintGroup({
        name: 'sync-check',
        constraintKeyForExecution: () => 'k',
        shouldExecute: (_task, input?: string) => input !== 'b',
      }),
    );
    const ran: string[] = [];
    const task = new Task({ name: 't', taskFunction: async (input: string) => ran.push(input) });
    const results = await Promise.all(['a', 'b', 'c'].map((input) => manager.triggerTask(task, input)));
    expect(results).toEqual([1, undefined, undefined]);
    expect(ran).toEqual(['a']);
  });
});
