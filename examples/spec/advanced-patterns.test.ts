import { TaskConstraintGroup } from '@taskbuffer/constraints';
import { ChainError, type ITaskEvent, Task, TaskManager, Taskchain } from '@taskbuffer/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OverlapCounter, captureConsole } from './support/console.js';

// README § Advanced Patterns. Each `it` holds one example, verbatim but for the
// import lines; stand-ins come first, assertions after.

describe('README: Advanced Patterns', () => {
  let output: ReturnType<typeof captureConsole>;
  beforeEach(() => {
    output = captureConsole();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('Pre-Task & After-Task Hooks', async () => {
    const mainTask = new Task({
      name: 'MainWork',
      preTask: new Task({
        name: 'Setup',
        taskFunction: async () => {
          console.log('Setting up...');
        },
      }),
      afterTask: new Task({
        name: 'Cleanup',
        taskFunction: async () => {
          console.log('Cleaning up...');
        },
      }),
      taskFunction: async () => {
        console.log('Doing work...');
        return 'done';
      },
    });

    await mainTask.trigger();
    // Setting up... → Doing work... → Cleaning up...

    expect(output.log).toEqual(['Setting up...', 'Doing work...', 'Cleaning up...']);
    await expect(mainTask.trigger()).resolves.toBe('done');
    expect(output.log).toHaveLength(6); // hooks run on every run
  });

  it('Pre-Task & After-Task Hooks: a task may be given as a function returning it', async () => {
    const order: string[] = [];
    const cleanup = new Task({ name: 'Cleanup', taskFunction: async (result) => void order.push(`cleanup ${result}`) });
    const task = new Task({
      name: 'Lazy',
      preTask: () => new Task({ name: 'Setup', taskFunction: async (input) => void order.push(`setup ${input}`) }),
      afterTask: () => cleanup,
      taskFunction: async (input) => {
        order.push(`work ${input}`);
        return 'done';
      },
    });
    await task.trigger('x');
    expect(order).toEqual(['setup x', 'work x', 'cleanup done']);
  });

  it('One-Time Setup Functions', async () => {
    // Stand-in for a database driver.
    let poolsCreated = 0;
    const queries: string[] = [];
    const createConnectionPool = async () => {
      poolsCreated++;
      return { query: async (sql: string) => (queries.push(sql), [{ sql }]) };
    };

    const task = new Task({
      name: 'DBQuery',
      taskSetup: async () => {
        const pool = await createConnectionPool();
        return pool; // This becomes `setupValue`
      },
      taskFunction: async (input, pool) => {
        return await pool.query(input);
      },
    });

    await task.trigger('SELECT * FROM users'); // Setup runs here
    await task.trigger('SELECT * FROM orders'); // Setup skipped, pool reused

    expect(poolsCreated).toBe(1);
    expect(queries).toEqual(['SELECT * FROM users', 'SELECT * FROM orders']);
    await expect(task.trigger('SELECT 1')).resolves.toEqual([{ sql: 'SELECT 1' }]);
    // Concurrent first runs share one setup.
    const fresh = new Task({ taskSetup: createConnectionPool, taskFunction: async (input, pool) => pool.query(input) });
    await Promise.all([fresh.trigger('a'), fresh.trigger('b')]);
    expect(poolsCreated).toBe(2);
  });

  for (const failingStep of [undefined, 'RunMigrations'] as const) {
    it(`Database Migration Pipeline (${failingStep === undefined ? 'succeeds' : `fails at ${failingStep}`})`, async () => {
      const ran: string[] = [];
      const step = (name: string) =>
        new Task({
          name,
          taskFunction: async () => {
            ran.push(name);
            if (name === failingStep) throw new Error('column "email" already exists');
          },
        });
      const backupTask = step('Backup');
      const validateSchemaTask = step('ValidateSchema');
      const runMigrationsTask = step('RunMigrations');
      const verifyIntegrityTask = step('VerifyIntegrity');
      const rollbackTask = step('Rollback');
      let caught: unknown;

      const migration = new Taskchain({
        name: 'DatabaseMigration',
        taskArray: [backupTask, validateSchemaTask, runMigrationsTask, verifyIntegrityTask],
      });

      try {
        await migration.trigger();
        console.log('Migration successful!');
      } catch (error) {
        caught = error; // (not in the spec: keeps the error for assertions)
        // error includes chain name, failing task name, index, and original cause
        // `(error as Error)`: under `strict` a catch variable is `unknown`; the spec reads `error.message`.
        console.error((error as Error).message);
        await rollbackTask.trigger();
      }

      if (failingStep === undefined) {
        expect(output.log).toEqual(['Migration successful!']);
        expect(ran).toEqual(['Backup', 'ValidateSchema', 'RunMigrations', 'VerifyIntegrity']);
        expect(caught).toBeUndefined();
      } else {
        expect(output.log).toEqual([]);
        expect(ran).toEqual(['Backup', 'ValidateSchema', 'RunMigrations', 'Rollback']);
        expect(caught).toBeInstanceOf(ChainError);
        expect(caught).toMatchObject({ chainName: 'DatabaseMigration', taskName: 'RunMigrations', taskIndex: 2 });
        expect((caught as Error).cause).toBeInstanceOf(Error);
        expect(((caught as Error).cause as Error).message).toBe('column "email" already exists');
        expect(output.error).toHaveLength(1);
        for (const part of ['DatabaseMigration', 'RunMigrations', '2', 'column "email" already exists']) {
          expect(output.error[0]).toContain(part);
        }
      }
    });
  }

  it('Multi-Tenant SaaS Monitoring', async () => {
    vi.useFakeTimers();
    // Stand-ins: a sync that takes 100 ms (counting overlaps per tenant) and a WebSocket server.
    const running: Record<string, OverlapCounter> = { acme: new OverlapCounter(), globex: new OverlapCounter() };
    const syncData = async (tenantId: string) => {
      running[tenantId]!.enter();
      await new Promise((resolve) => setTimeout(resolve, 100));
      running[tenantId]!.leave();
      return `${tenantId} synced`;
    };
    const channels = new Map<string, ITaskEvent[]>();
    const wss = {
      broadcast: (channel: string, message: string) => {
        channels.set(channel, [...(channels.get(channel) ?? []), JSON.parse(message) as ITaskEvent]);
      },
    };

    const manager = new TaskManager();

    // Per-tenant concurrency limit
    const tenantLimit = new TaskConstraintGroup<{ tenantId: string }>({
      name: 'tenant-concurrency',
      maxConcurrent: 2,
      constraintKeyForExecution: (task, input?) => task.data.tenantId,
    });
    manager.addConstraintGroup(tenantLimit);

    // Create tenant-scoped tasks
    function createTenantTask(tenantId: string, taskName: string, fn: () => Promise<any>) {
      const task = new Task<undefined, [], { tenantId: string }>({
        name: `${tenantId}:${taskName}`,
        data: { tenantId },
        labels: { tenantId },
        taskFunction: fn,
      });
      manager.addTask(task);
      return task;
    }

    createTenantTask('acme', 'sync', async () => syncData('acme'));
    createTenantTask('globex', 'sync', async () => syncData('globex'));

    // Stream events to tenant-specific WebSocket channels
    manager.taskSubject.subscribe((event) => {
      const tenantId = event.task.labels?.tenantId;
      if (tenantId) {
        wss.broadcast(tenantId, JSON.stringify(event));
      }
    });

    // Query tasks for a specific tenant
    const acmeTasks = manager.getTasksMetadataByLabel('tenantId', 'acme');

    expect(acmeTasks.map((meta) => meta.name)).toEqual(['acme:sync']);

    // Three more acme tasks: at most two acme tasks run at once; globex is not held back.
    for (const name of ['report', 'export', 'cleanup']) createTenantTask('acme', name, async () => syncData('acme'));
    const acmeRuns = manager.getTasksByLabel('tenantId', 'acme').map((task) => manager.triggerTask(task));
    const globexRun = manager.triggerTaskByName('globex:sync');
    await vi.advanceTimersByTimeAsync(0);
    expect([running.acme!.current, running.globex!.current]).toEqual([2, 1]);
    await vi.advanceTimersByTimeAsync(200);
    expect(await Promise.all(acmeRuns)).toEqual(Array(4).fill('acme synced'));
    expect(await globexRun).toBe('globex synced');
    expect(running.acme!.max).toBe(2);

    const acmeEvents = channels.get('acme')!;
    expect(acmeEvents.every((event) => event.task.labels.tenantId === 'acme')).toBe(true);
    expect(acmeEvents.filter((event) => event.type === 'completed').map((event) => event.task.name)).toEqual([
      'acme:sync',
      'acme:report',
      'acme:export',
      'acme:cleanup',
    ]);
    expect(channels.get('globex')!.map((event) => `${event.type} ${event.task.name}`)).toEqual([
      'started globex:sync',
      'completed globex:sync',
    ]);
  });
});
