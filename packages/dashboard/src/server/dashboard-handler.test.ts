import { type Server, createServer } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Task, TaskManager } from '@taskbuffer/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DashboardSnapshot, DashboardSource, DashboardSourceListener, DashboardUpdate } from '../protocol.js';
import { type DashboardHandlerOptions, createDashboardHandler } from './dashboard-handler.js';
import { startDashboardServer } from './dashboard-server.js';

interface Message {
  event: string;
  data: string;
}

/** Reads Server-Sent Events from a URL, message by message. */
async function openEvents(url: string) {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const queue: Message[] = [];
  let buffer = '';
  let ended = false;
  const waiters: Array<() => void> = [];
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let index: number;
        while ((index = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, index);
          buffer = buffer.slice(index + 2);
          const message: Message = { event: 'message', data: '' };
          let hasData = false;
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) message.event = line.slice(7);
            else if (line.startsWith('data: ')) {
              message.data += line.slice(6);
              hasData = true;
            }
          }
          if (hasData) queue.push(message);
        }
        for (const wake of waiters.splice(0)) wake();
      }
    } catch {
      // Aborted by close().
    }
    ended = true;
    for (const wake of waiters.splice(0)) wake();
  })();
  return {
    response,
    get ended() {
      return ended;
    },
    /** The next message of this type (skipping others), parsed. */
    async next<T>(event: string, timeoutMs = 5000): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = queue.findIndex((message) => message.event === event);
        if (index !== -1) return JSON.parse(queue.splice(0, index + 1).pop()!.data) as T;
        if (ended) throw new Error(`stream ended before a "${event}" message`);
        if (Date.now() > deadline) throw new Error(`no "${event}" message within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
    /** How many messages of this type have arrived and not been taken by next(). */
    count(event: string): number {
      return queue.filter((message) => message.event === event).length;
    },
    /** Resolves once the server has ended the stream. */
    async whenEnded(timeoutMs = 5000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!ended) {
        if (Date.now() > deadline) throw new Error('stream still open');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close() {
      controller.abort();
    },
  };
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(options: Partial<DashboardHandlerOptions>) {
  const handler = createDashboardHandler({ snapshotIntervalMs: 0, ...options });
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        handler.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { handler, base };
}

function managerWith(...names: string[]): TaskManager {
  const manager = new TaskManager();
  for (const name of names) manager.addTask(new Task({ name, labels: { tenantId: 'acme' }, taskFunction: () => name }));
  return manager;
}

describe('createDashboardHandler', () => {
  describe('GET /', () => {
    it('serves a page that loads the bundle and watches the events endpoint, under a strict CSP', async () => {
      const { base } = await serve({ manager: managerWith('a'), title: 'Ops <tasks>' });
      const response = await fetch(`${base}/`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      const html = await response.text();
      expect(html).toContain('<script type="module" src="taskbuffer-dashboard.js"></script>');
      expect(html).toContain('<taskbuffer-dashboard src="events" heading="Ops &#60;tasks&#62;">');
      expect(html).toContain('<title>Ops &#60;tasks&#62;</title>');
    });

    it('redirects the base path to its trailing-slash form and leaves other paths alone', async () => {
      const { base } = await serve({ manager: managerWith('a'), basePath: '/ops/tasks/' });
      const redirect = await fetch(`${base}/ops/tasks?x=1`, { redirect: 'manual' });
      expect(redirect.status).toBe(308);
      expect(redirect.headers.get('location')).toBe('/ops/tasks/?x=1');
      expect((await fetch(`${base}/ops/tasks/`)).status).toBe(200);
      expect((await fetch(`${base}/ops/tasks/snapshot`)).status).toBe(200);
      expect((await fetch(`${base}/snapshot`)).status).toBe(404);
      expect((await fetch(`${base}/ops/tasksx/`)).status).toBe(404);
    });

    it('hands requests it does not serve to next(), as middleware', async () => {
      const handler = createDashboardHandler({ manager: managerWith('a'), basePath: '/dash' });
      cleanups.push(() => handler.close());
      const next = vi.fn();
      const server = createServer((request, response) =>
        handler(request, response, () => {
          next();
          response.end('app');
        }),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => new Promise((resolve) => server.close(resolve)));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect(await (await fetch(`${base}/other`)).text()).toBe('app');
      expect(await (await fetch(`${base}/dash/unknown`)).text()).toBe('app');
      expect(next).toHaveBeenCalledTimes(2);
    });

    it('redirects an Express-style mount (url stripped, originalUrl kept) to the trailing slash', async () => {
      const handler = createDashboardHandler({ manager: managerWith('a') });
      cleanups.push(() => handler.close());
      const server = createServer((request, response) => {
        // What Express does for app.use('/dash', handler).
        const original = request.url!;
        if (!original.startsWith('/dash')) return void response.end('app');
        Object.assign(request, { originalUrl: original, url: original.slice('/dash'.length) || '/' });
        handler(request, response);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => new Promise((resolve) => server.close(resolve)));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const redirect = await fetch(`${base}/dash`, { redirect: 'manual' });
      expect(redirect.status).toBe(308);
      expect(redirect.headers.get('location')).toBe('/dash/');
      expect((await fetch(`${base}/dash/`)).status).toBe(200);
    });
  });

  describe('GET /taskbuffer-dashboard.js', () => {
    it('serves the element as one ES module, with an ETag', async () => {
      const { base } = await serve({ manager: managerWith('a') });
      const response = await fetch(`${base}/taskbuffer-dashboard.js`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      const code = await response.text();
      expect(code).toContain('taskbuffer-dashboard');
      // Lit is inside: the module imports nothing.
      expect(code).not.toMatch(/\bfrom\s*["']lit/);
      const etag = response.headers.get('etag')!;
      const cached = await fetch(`${base}/taskbuffer-dashboard.js`, { headers: { 'if-none-match': etag } });
      expect(cached.status).toBe(304);
    }, 30_000);
  });

  describe('GET /snapshot', () => {
    it('answers with the manager as JSON and no trigger action by default', async () => {
      const manager = managerWith('a', 'b');
      await manager.triggerTaskByName('b');
      const { base } = await serve({ manager });
      const response = await fetch(`${base}/snapshot`);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const snapshot = (await response.json()) as DashboardSnapshot;
      expect(snapshot.tasks.map((task) => [task.name, task.status, task.runCount])).toEqual([
        ['a', 'idle', 0],
        ['b', 'completed', 1],
      ]);
      expect(snapshot.actions).toEqual({});
    });

    it('refuses methods other than GET and HEAD', async () => {
      const { base } = await serve({ manager: managerWith('a') });
      const response = await fetch(`${base}/snapshot`, { method: 'DELETE' });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, HEAD');
    });
  });

  describe('GET /events', () => {
    it('sends a snapshot, then updates as tasks run', async () => {
      const manager = managerWith('a');
      const { base } = await serve({ manager, coalesceMs: 20 });
      const events = await openEvents(`${base}/events`);
      cleanups.push(() => events.close());
      expect(events.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      const snapshot = await events.next<DashboardSnapshot>('snapshot');
      expect(snapshot.tasks.map((task) => task.name)).toEqual(['a']);

      await manager.triggerTaskByName('a');
      const update = await events.next<DashboardUpdate>('update');
      expect(update.tasks).toHaveLength(1);
      expect(update.tasks[0]).toMatchObject({ name: 'a', status: 'completed', runCount: 1 });
      expect(update.events.map((event) => event.type)).toEqual(['started', 'completed']);
    });

    it('coalesces a burst of events into a few updates', async () => {
      const manager = new TaskManager();
      const tasks = Array.from({ length: 50 }, (_, index) => new Task({ name: `t${index}`, taskFunction: () => index }));
      for (const task of tasks) manager.addTask(task);
      const { base } = await serve({ manager, coalesceMs: 200, maxEventsPerUpdate: 20 });
      const events = await openEvents(`${base}/events`);
      cleanups.push(() => events.close());
      await events.next('snapshot');
      // 1,000 events (500 runs of 50 tasks), all within one coalescing window.
      await Promise.all(Array.from({ length: 500 }, (_, index) => tasks[index % 50]!.trigger()));
      const update = await events.next<DashboardUpdate>('update');
      expect(update.tasks).toHaveLength(50);
      expect(update.tasks.every((task) => task.runCount === 10 && task.status === 'completed')).toBe(true);
      expect(update.events).toHaveLength(20);
      expect(update.events.length + update.droppedEvents).toBe(1000);
    });

    it('sends updates larger than the socket buffer as updates, with no extra snapshots', async () => {
      const manager = new TaskManager();
      const tasks = Array.from(
        { length: 300 },
        (_, index) => new Task({ name: `task-${index}`, labels: { note: 'x'.repeat(200) }, taskFunction: () => index }),
      );
      for (const task of tasks) manager.addTask(task);
      const { base } = await serve({ manager, coalesceMs: 10 });
      const events = await openEvents(`${base}/events`);
      cleanups.push(() => events.close());
      await events.next('snapshot');
      for (let round = 0; round < 3; round++) {
        await Promise.all(tasks.map((task) => task.trigger()));
        const update = await events.next<DashboardUpdate>('update');
        expect(update.tasks.length).toBeGreaterThan(0);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(events.count('snapshot')).toBe(0);
    });

    it('skips updates for a client that does not read, then sends it one snapshot once it drains', async () => {
      const manager = new TaskManager();
      const tasks = Array.from(
        { length: 1000 },
        (_, index) => new Task({ name: `task-${index}`, labels: { note: 'x'.repeat(300) }, taskFunction: () => index }),
      );
      for (const task of tasks) manager.addTask(task);
      const { base, handler } = await serve({ manager, coalesceMs: 1 });
      const socket = connect(Number(new URL(base).port), '127.0.0.1');
      cleanups.push(() => socket.destroy());
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (received += chunk));
      socket.write('GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await vi.waitFor(() => expect(received).toContain('event: snapshot'));
      socket.pause();
      // About 500 kB per update; 60 of them are far more than the socket buffers hold.
      for (let round = 0; round < 60; round++) {
        await Promise.all(tasks.map((task) => task.trigger()));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(handler.clientCount).toBe(1);
      socket.resume();
      await vi.waitFor(() => expect(received.split('event: snapshot\n').length - 1).toBe(2), { timeout: 10_000 });
      const updates = received.split('event: update\n').length - 1;
      expect(updates).toBeGreaterThan(0);
      expect(updates).toBeLessThan(60);
    }, 30_000);

    it('includes constraint groups in updates when the manager has some', async () => {
      const manager = managerWith('a');
      manager.addConstraintGroup({
        name: 'cap',
        maxConcurrent: 1,
        cooldownMs: 0,
        createConstraintEngine: (host) => ({
          addGroup: () => undefined,
          removeGroup: () => undefined,
          run: (task, input) => host.execute(task, input, () => undefined),
          stop: () => undefined,
        }),
        getSnapshot: () => ({ name: 'cap', maxConcurrent: 3, cooldownMs: 0, keys: [] }),
      });
      const { base } = await serve({ manager, coalesceMs: 10 });
      const events = await openEvents(`${base}/events`);
      cleanups.push(() => events.close());
      expect((await events.next<DashboardSnapshot>('snapshot')).constraintGroups).toHaveLength(1);
      await manager.triggerTaskByName('a');
      const update = await events.next<DashboardUpdate>('update');
      expect(update.constraintGroups).toEqual([{ name: 'cap', maxConcurrent: 3, cooldownMs: 0, keys: [] }]);
    });

    it('pushes a fresh snapshot every snapshotIntervalMs', async () => {
      const manager = managerWith('a');
      const { base } = await serve({ manager, snapshotIntervalMs: 100 });
      const events = await openEvents(`${base}/events`);
      cleanups.push(() => events.close());
      await events.next('snapshot');
      manager.addTask(new Task({ name: 'later', taskFunction: () => 1 }));
      const next = await events.next<DashboardSnapshot>('snapshot');
      expect(next.tasks.map((task) => task.name)).toEqual(['a', 'later']);
    });

    it('with keepHistory false, watches the manager only while someone watches the dashboard', async () => {
      const manager = managerWith('a');
      const { base, handler } = await serve({ manager, keepHistory: false });
      expect(manager.taskSubject.observed).toBe(false);
      const first = await openEvents(`${base}/events`);
      const second = await openEvents(`${base}/events`);
      await first.next('snapshot');
      await second.next('snapshot');
      expect(handler.clientCount).toBe(2);
      expect(manager.taskSubject.observed).toBe(true);
      first.close();
      await vi.waitFor(() => expect(handler.clientCount).toBe(1));
      expect(manager.taskSubject.observed).toBe(true);
      second.close();
      await vi.waitFor(() => expect(handler.clientCount).toBe(0));
      expect(manager.taskSubject.observed).toBe(false);
    });
  });

  describe('source', () => {
    /** A source held by the test: it answers snapshots and pushes what the test tells it to. */
    function fakeSource(overrides: Partial<DashboardSource> = {}) {
      const listeners = new Set<DashboardSourceListener>();
      const triggered: string[] = [];
      const source: DashboardSource = {
        getSnapshot: async () => ({
          protocol: 1,
          time: 1,
          tasks: [{ name: 'remote', status: 'idle', steps: [], currentProgress: 0, runCount: 0, labels: {}, errorCount: 0 }],
          scheduled: [],
          nextRuns: [],
          constraintGroups: [],
          actions: {},
          runs: [{ id: 'i1:1', taskName: 'remote', status: 'completed', startedAt: 1, endedAt: 2, instanceId: 'i1' }],
          runsPerTask: 200,
        }),
        subscribe: (listener) => {
          listeners.add(listener);
          return { unsubscribe: () => listeners.delete(listener) };
        },
        trigger: (name) => {
          if (name !== 'remote') throw Object.assign(new Error(`No task named "${name}"`), { name: 'TaskNotFoundError' });
          triggered.push(name);
        },
        ...overrides,
      };
      return { source, listeners, triggered };
    }

    it('serves any source: its snapshot with runs, its updates and problems, and triggers through it', async () => {
      const { source, listeners, triggered } = fakeSource();
      const { base } = await serve({ source, allowTrigger: true, authorize: () => true });
      const events = await openEvents(`${base}/events`);
      cleanups.push(() => events.close());
      const snapshot = await events.next<DashboardSnapshot>('snapshot');
      expect(snapshot.tasks.map((task) => task.name)).toEqual(['remote']);
      expect(snapshot.runs).toEqual([expect.objectContaining({ id: 'i1:1', instanceId: 'i1' })]);
      expect(snapshot.actions).toEqual({ trigger: 'tasks/{name}/trigger' });
      expect(listeners.size).toBe(1);

      const update: DashboardUpdate = { protocol: 1, time: 2, tasks: [], events: [], droppedEvents: 0, runs: [] };
      for (const listener of listeners) listener.update(update);
      expect(await events.next<DashboardUpdate>('update')).toEqual(update);

      for (const listener of listeners) listener.problem?.('Redis is unreachable');
      expect(await events.next<{ message: string }>('problem')).toEqual({ message: 'Redis is unreachable' });
      // A page that connects while the problem lasts is told at once.
      const late = await openEvents(`${base}/events`);
      cleanups.push(() => late.close());
      await late.next('snapshot');
      expect(await late.next<{ message: string }>('problem')).toEqual({ message: 'Redis is unreachable' });
      for (const listener of listeners) listener.problem?.(undefined);
      expect(await events.next<{ message: null }>('problem')).toEqual({ message: null });

      const post = (name: string) =>
        fetch(`${base}/tasks/${name}/trigger`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect((await post('remote')).status).toBe(202);
      expect(triggered).toEqual(['remote']);
      expect((await post('other')).status).toBe(404);
    });

    it('ends the stream with a problem message when the source cannot answer a snapshot, and answers 502 on /snapshot', async () => {
      const { source, listeners } = fakeSource({ getSnapshot: () => Promise.reject(new Error('store is down')) });
      const { base, handler } = await serve({ source });
      const events = await openEvents(`${base}/events`);
      cleanups.push(() => events.close());
      expect(await events.next<{ message: string }>('problem')).toEqual({
        message: 'The dashboard source failed: store is down',
      });
      await events.whenEnded();
      expect(handler.clientCount).toBe(0);
      expect(listeners.size).toBe(0);
      const response = await fetch(`${base}/snapshot`);
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({ error: 'The dashboard source failed: store is down' });
    });
  });

  describe('run history', () => {
    it('sends the runs kept so far in the first snapshot, new runs in updates, and none in periodic snapshots', async () => {
      const manager = managerWith('a');
      const { base } = await serve({ manager, coalesceMs: 10, snapshotIntervalMs: 50, runsPerTask: 2 });
      for (let index = 0; index < 3; index++) await manager.triggerTaskByName('a');
      const events = await openEvents(`${base}/events`);
      cleanups.push(() => events.close());
      const snapshot = await events.next<DashboardSnapshot>('snapshot');
      expect(snapshot.runsPerTask).toBe(2);
      expect(snapshot.runs!.map((run) => run.status)).toEqual(['completed', 'completed']);
      await manager.triggerTaskByName('a');
      const update = await events.next<DashboardUpdate>('update');
      expect(update.runs).toEqual([expect.objectContaining({ taskName: 'a', status: 'completed' })]);
      const periodic = await events.next<DashboardSnapshot>('snapshot');
      expect(periodic.runs).toBeUndefined();
    });
  });

  describe('close', () => {
    it('ends every stream, stops watching, and refuses new streams', async () => {
      const manager = managerWith('a');
      const { base, handler } = await serve({ manager });
      // The run history watches the manager from the start.
      expect(manager.taskSubject.observed).toBe(true);
      const events = await openEvents(`${base}/events`);
      cleanups.push(() => events.close());
      await events.next('snapshot');
      handler.close();
      await events.whenEnded();
      expect(handler.clientCount).toBe(0);
      expect(manager.taskSubject.observed).toBe(false);
      expect((await fetch(`${base}/events`)).status).toBe(503);
    });
  });

  describe('POST /tasks/:name/trigger', () => {
    const post = (url: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
      fetch(url, { method: 'POST', headers, body: '{}' });

    it('does not exist unless allowTrigger is set', async () => {
      const manager = managerWith('a');
      const { base } = await serve({ manager });
      expect((await post(`${base}/tasks/a/trigger`)).status).toBe(404);
      expect(manager.getTaskMetadata('a')!.runCount).toBe(0);
    });

    it('triggers the task once authorize says yes, and advertises the action in snapshots', async () => {
      const manager = managerWith('a b');
      const authorize = vi.fn(() => true);
      const { base } = await serve({ manager, allowTrigger: true, authorize });
      const snapshot = (await (await fetch(`${base}/snapshot`)).json()) as DashboardSnapshot;
      expect(snapshot.actions).toEqual({ trigger: 'tasks/{name}/trigger' });
      const response = await post(`${base}/tasks/a%20b/trigger`);
      expect(response.status).toBe(202);
      expect(await response.json()).toEqual({ triggered: 'a b' });
      expect(authorize).toHaveBeenCalledTimes(1);
      await vi.waitFor(() => expect(manager.getTaskMetadata('a b')!.runCount).toBe(1));
    });

    it('answers 403 when authorize says no or throws, and runs nothing', async () => {
      const manager = managerWith('a');
      let decision: () => boolean | Promise<boolean> = () => false;
      const { base } = await serve({ manager, allowTrigger: true, authorize: () => decision() });
      expect((await post(`${base}/tasks/a/trigger`)).status).toBe(403);
      decision = () => Promise.reject(new Error('auth service down'));
      expect((await post(`${base}/tasks/a/trigger`)).status).toBe(403);
      expect(manager.getTaskMetadata('a')!.runCount).toBe(0);
    });

    it('refuses cross-origin requests, non-JSON bodies, other methods and unknown tasks', async () => {
      const manager = managerWith('a');
      const { base } = await serve({ manager, allowTrigger: true, authorize: () => true });
      const crossOrigin = await post(`${base}/tasks/a/trigger`, {
        'content-type': 'application/json',
        origin: 'https://evil.example',
      });
      expect(crossOrigin.status).toBe(403);
      expect((await post(`${base}/tasks/a/trigger`, { 'content-type': 'text/plain' })).status).toBe(415);
      expect((await fetch(`${base}/tasks/a/trigger`)).status).toBe(405);
      const unknown = await post(`${base}/tasks/nope/trigger`);
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({ error: 'No task named "nope"' });
      expect(manager.getTaskMetadata('a')!.runCount).toBe(0);
    });

    it('answers 202 for a task that then fails, without an unhandled rejection', async () => {
      const manager = new TaskManager();
      manager.addTask(
        new Task({
          name: 'broken',
          taskFunction: () => {
            throw new Error('boom');
          },
        }),
      );
      const { base } = await serve({ manager, allowTrigger: true, authorize: () => true });
      expect((await post(`${base}/tasks/broken/trigger`)).status).toBe(202);
      await vi.waitFor(() => expect(manager.getTaskMetadata('broken')!.lastError).toBe('boom'));
    });
  });

  describe('options', () => {
    const manager = managerWith('a');

    it.each([
      [{ manager: {} }, 'Expected `manager` to be a TaskManager, got `{}` (object)'],
      [{}, 'Expected `manager` to be a TaskManager (or pass `source`), got `undefined`'],
      [{ source: {} }, 'Expected `source` to be a dashboard source with `getSnapshot` and `subscribe`, got `{}` (object)'],
      [
        { source: { getSnapshot: () => null, subscribe: () => null }, allowTrigger: true, authorize: () => true },
        'Expected `source` to be a source with `trigger` when `allowTrigger` is true, got `{}` (object)',
      ],
      [{ manager, runsPerTask: -1 }, 'Expected `runsPerTask` to be a non-negative integer, got `-1` (number)'],
      [{ manager, basePath: 'ops' }, 'Expected `basePath` to be a path starting with "/", got `"ops"` (string)'],
      [{ manager, coalesceMs: -1 }, 'Expected `coalesceMs` to be a non-negative number of ms, got `-1` (number)'],
      [{ manager, heartbeatMs: 0 }, 'Expected `heartbeatMs` to be a positive number of ms, got `0` (number)'],
      [{ manager, nextRunsLimit: 1.5 }, 'Expected `nextRunsLimit` to be a non-negative integer, got `1.5` (number)'],
      [
        { manager, allowTrigger: true },
        'Expected `authorize` to be a function `(request) => boolean | Promise<boolean>` when `allowTrigger` is true, got `undefined`',
      ],
      [{ manager, allowTrigger: 'yes' }, 'Expected `allowTrigger` to be a boolean, got `"yes"` (string)'],
    ])('throws a TypeError for %o', (options, message) => {
      expect(() => createDashboardHandler(options as unknown as DashboardHandlerOptions)).toThrow(new TypeError(message));
    });
  });
});

describe('startDashboardServer', () => {
  it('listens on 127.0.0.1 by default, reports its URL and closes cleanly with a stream open', async () => {
    const dashboard = await startDashboardServer({ manager: managerWith('a') });
    expect(dashboard.url).toBe(`http://127.0.0.1:${dashboard.port}/`);
    expect((dashboard.server.address() as AddressInfo).address).toBe('127.0.0.1');
    const events = await openEvents(`${dashboard.url}events`);
    await events.next('snapshot');
    await dashboard.close();
    await events.whenEnded();
    expect(dashboard.server.listening).toBe(false);
  });

  it('rejects a bad port with a TypeError', async () => {
    await expect(startDashboardServer({ manager: managerWith('a'), port: 70_000 })).rejects.toThrow(
      new TypeError('Expected `port` to be an integer from 0 to 65535, got `70000` (number)'),
    );
  });
});

