import { ChainError, Task, TaskDebounced, TaskOnce, Taskchain, Taskparallel } from '@taskbuffer/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OverlapCounter, captureConsole } from './support/console.js';

// README § Core Concepts. Each `it` holds one example, verbatim but for the import
// line; stand-ins for what the example leaves undefined come first, assertions after.

describe('README: Core Concepts', () => {
  let output: ReturnType<typeof captureConsole>;
  beforeEach(() => {
    output = captureConsole();
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('Task Buffering', async () => {
    // Stand-in for `fetch`: 100 ms per request, counting requests in flight.
    const inFlight = new OverlapCounter();
    const requested: string[] = [];
    const fetch = async (endpoint: string) => {
      requested.push(endpoint);
      inFlight.enter();
      await new Promise((resolve) => setTimeout(resolve, 100));
      inFlight.leave();
      return { json: async () => ({ endpoint }) };
    };

    const apiTask = new Task({
      name: 'APIRequest',
      buffered: true,
      bufferMax: 5, // Maximum 5 concurrent executions
      taskFunction: async (endpoint) => {
        return await fetch(endpoint).then((r) => r.json());
      },
    });

    // Rapid fire 100 calls — only bufferMax execute concurrently
    for (let i = 0; i < 100; i++) {
      apiTask.trigger(`/api/data/${i}`);
    }

    // "First bufferMax calls execute immediately"
    expect(requested).toEqual(['/api/data/0', '/api/data/1', '/api/data/2', '/api/data/3', '/api/data/4']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(inFlight.max).toBe(5);
    // "Additional calls are queued; when buffer is full, new calls overwrite the last queued item":
    // five wait, and the last of them was overwritten by every later call, ending with #99.
    expect(requested.slice(5)).toEqual(['/api/data/5', '/api/data/6', '/api/data/7', '/api/data/8', '/api/data/99']);
    expect(apiTask.runCount).toBe(10);
    // Every promise settles: a caller whose queued call was overwritten gets the result of the call that replaced it.
    const calls = Array.from({ length: 12 }, (_, i) => apiTask.trigger(`/again/${i}`));
    await vi.advanceTimersByTimeAsync(200);
    const results = await Promise.all(calls);
    expect(results.slice(8)).toEqual([
      { endpoint: '/again/8' },
      { endpoint: '/again/11' },
      { endpoint: '/again/11' },
      { endpoint: '/again/11' },
    ]);
  });

  it('Task Chains', async () => {
    // Stand-ins for `fetch('/api/data')` and `database.save`.
    const fetch = async (url: string) => ({ json: async () => [{ id: 1, url }, { id: 2, url }] });
    const saved: unknown[] = [];
    const database = { save: async (rows: unknown[]) => void saved.push(...rows) };

    const fetchTask = new Task({
      name: 'Fetch',
      taskFunction: async () => {
        const res = await fetch('/api/data');
        return res.json();
      },
    });

    const transformTask = new Task({
      name: 'Transform',
      taskFunction: async (data) => {
        // `item: any` added: `data` is `any`, so under `strict` (noImplicitAny) the spec's bare `item` does not compile.
        return data.map((item: any) => ({ ...item, transformed: true }));
      },
    });

    const saveTask = new Task({
      name: 'Save',
      taskFunction: async (transformedData) => {
        await database.save(transformedData);
        return transformedData.length;
      },
    });

    const pipeline = new Taskchain({
      name: 'DataPipeline',
      taskArray: [fetchTask, transformTask, saveTask],
    });

    const savedCount = await pipeline.trigger();
    console.log(`Saved ${savedCount} items`);

    expect(savedCount).toBe(2);
    expect(output.log).toEqual(['Saved 2 items']);
    expect(saved).toEqual([
      { id: 1, url: '/api/data', transformed: true },
      { id: 2, url: '/api/data', transformed: true },
    ]);
  });

  it('Task Chains: dynamic mutation', async () => {
    const step = (name: string) => new Task({ name, taskFunction: async (input: string[] = []) => [...input, name] });
    const first = step('first');
    const oldTask = step('old');
    const newTask = step('new');
    const pipeline = new Taskchain({ name: 'Mutable', taskArray: [first, oldTask] });

    pipeline.addTask(newTask); // Append to chain
    pipeline.removeTask(oldTask); // Remove by reference (returns boolean)
    pipeline.shiftTask(); // Remove & return first task

    expect(pipeline.taskArray).toEqual([newTask]);
    await expect(pipeline.trigger()).resolves.toEqual(['new']);
    expect(pipeline.removeTask(oldTask)).toBe(false);
    expect(pipeline.removeTask(newTask)).toBe(true);
    pipeline.addTask(first);
    expect(pipeline.shiftTask()).toBe(first);
    expect(pipeline.shiftTask()).toBeUndefined();
  });

  it('Task Chains: a failure names the chain, the failing task and its index, with the cause', async () => {
    const cause = new Error('disk full');
    const pipeline = new Taskchain({
      name: 'DataPipeline',
      taskArray: [
        new Task({ name: 'Fetch', taskFunction: async () => 1 }),
        new Task({
          name: 'Save',
          taskFunction: async () => {
            throw cause;
          },
        }),
      ],
    });
    const error = await pipeline.trigger().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ChainError);
    expect(error).toMatchObject({ chainName: 'DataPipeline', taskName: 'Save', taskIndex: 1, cause });
    expect((error as Error).message).toContain('DataPipeline');
    expect((error as Error).message).toContain('Save');
    expect((error as Error).message).toContain('disk full');
  });

  it('Parallel Execution', async () => {
    // Stand-ins: four channels that take 100 ms each.
    const sent = new OverlapCounter();
    const received: Array<[string, unknown]> = [];
    const channel = (name: string) =>
      new Task({
        name,
        taskFunction: async (data) => {
          sent.enter();
          received.push([name, data]);
          await new Promise((resolve) => setTimeout(resolve, 100));
          sent.leave();
          return name;
        },
      });
    const emailTask = channel('email');
    const smsTask = channel('sms');
    const pushNotificationTask = channel('push');
    const webhookTask = channel('webhook');
    const notificationData = { userId: 'u-1', message: 'hi' };

    const parallel = new Taskparallel({
      taskArray: [emailTask, smsTask, pushNotificationTask, webhookTask],
    });

    const done = parallel.trigger(notificationData);
    await vi.advanceTimersByTimeAsync(100);
    await expect(done).resolves.toEqual(['email', 'sms', 'push', 'webhook']);
    expect(sent.max).toBe(4);
    expect(received).toEqual([
      ['email', notificationData],
      ['sms', notificationData],
      ['push', notificationData],
      ['webhook', notificationData],
    ]);
    expect(Date.now()).toBe(100); // side by side, not one after another
  });

  it('Debounced Tasks', async () => {
    const searched: string[] = [];
    const searchAPI = async (query: string) => {
      searched.push(query);
      return [`result for ${query}`];
    };

    const searchTask = new TaskDebounced({
      name: 'Search',
      debounceTimeInMillis: 300,
      taskFunction: async (query) => {
        return await searchAPI(query);
      },
    });

    // Rapid calls — only the last triggers after 300ms of quiet
    searchTask.trigger('h');
    searchTask.trigger('he');
    searchTask.trigger('hel');
    searchTask.trigger('hello'); // ← this one fires

    await vi.advanceTimersByTimeAsync(299);
    expect(searched).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(searched).toEqual(['hello']);
    expect(searchTask.runCount).toBe(1);

    // A trigger during the quiet period restarts it.
    const later = searchTask.trigger('a');
    await vi.advanceTimersByTimeAsync(200);
    const last = searchTask.trigger('ab');
    await vi.advanceTimersByTimeAsync(299);
    expect(searched).toEqual(['hello']);
    await vi.advanceTimersByTimeAsync(1);
    await expect(Promise.all([later, last])).resolves.toEqual([['result for ab'], ['result for ab']]);
    expect(searched).toEqual(['hello', 'ab']);
  });

  it('TaskOnce', async () => {
    let setups = 0;
    const setupDatabase = async () => {
      setups++;
    };

    const initTask = new TaskOnce({
      name: 'Init',
      taskFunction: async () => {
        await setupDatabase();
        console.log('Initialized!');
      },
    });

    await initTask.trigger(); // Runs
    await initTask.trigger(); // No-op
    await initTask.trigger(); // No-op
    console.log(initTask.hasTriggered); // true

    expect(setups).toBe(1);
    expect(output.log).toEqual(['Initialized!', 'true']);
    expect(initTask.runCount).toBe(1);
  });
});
