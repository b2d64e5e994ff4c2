import { Task, TaskManager } from '@taskbuffer/core';
import type { ConstraintGroupPort, ITaskEvent, SchedulerPort } from '@taskbuffer/core';
import { type DashboardServer, startDashboardServer } from '@taskbuffer/dashboard/server';

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** `0` picks a free port. @default 3000 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Where progress lines go; `false` silences them. @default process.stdout */
  output?: NodeJS.WritableStream | false;
  /** How often the progress line is printed when the output is not a terminal, in ms. @default 5000 */
  logIntervalMs?: number;
}

/** A running demo. */
export interface Demo {
  /** The dashboard's page. */
  readonly url: string;
  readonly manager: TaskManager;
  readonly dashboard: DashboardServer;
  /** Features left out because their package could not be loaded. */
  readonly missing: string[];
  /**
   * Stops the workload, lets the runs under way finish (printing how many are
   * left; after `timeoutMs` their signals abort), then stops the manager and
   * the server.
   */
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

type DomainData = { domain: string };

const TENANTS = [
  { id: 'acme', domains: ['acme.com', 'shop.acme.com'] },
  { id: 'globex', domains: ['globex.io', 'globex.net'] },
] as const;

const random = (min: number, max: number) => min + Math.random() * (max - min);
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/**
 * Starts a manager with a realistic workload (two tenants, tasks with steps, a
 * per-domain mutex with cooldown, a global cap, cron jobs with seconds, a
 * buffered task and the odd failure) and serves its dashboard.
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const missing: string[] = [];

  // Constraints and cron come from their own packages; the demo still runs (with less to show) without them.
  let scheduler: SchedulerPort | undefined;
  try {
    const { CronScheduler } = await import('@taskbuffer/scheduler');
    scheduler = new CronScheduler();
  } catch {
    missing.push('@taskbuffer/scheduler (cron jobs)');
  }
  let groups: ConstraintGroupPort[] = [];
  try {
    const { TaskConstraintGroup } = await import('@taskbuffer/constraints');
    groups = [
      new TaskConstraintGroup<DomainData>({
        name: 'per-domain',
        maxConcurrent: 1,
        cooldownMs: 2500,
        constraintKeyForExecution: (task) => (typeof task.data.domain === 'string' ? task.data.domain : null),
      }),
      new TaskConstraintGroup({
        name: 'global-cap',
        maxConcurrent: 4,
        constraintKeyForExecution: () => 'all',
      }),
    ];
  } catch {
    missing.push('@taskbuffer/constraints (per-domain mutex, global cap)');
  }

  const manager = new TaskManager(scheduler === undefined ? {} : { scheduler });
  for (const group of groups) manager.addConstraintGroup(group);

  /**
   * Waits like real work would; fails at once when the run's signal aborts
   * (the manager gave up waiting for it at stop), so no timer outlives the demo.
   */
  const work = (min: number, max: number, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, random(min, max));
      signal.addEventListener('abort', onAbort, { once: true });
    });
  const maybeFail = (probability: number, message: string) => {
    if (Math.random() < probability) throw new Error(message);
  };

  const triggerable: Task<any, any, any>[] = [];

  for (const tenant of TENANTS) {
    const labels = { tenantId: tenant.id };
    const deploy: Task<undefined, any, DomainData> = new Task({
      name: `${tenant.id}:deploy-web`,
      data: { domain: tenant.domains[0] },
      labels: { ...labels, kind: 'deploy' },
      steps: [
        { name: 'build', description: 'Building', percentage: 30 },
        { name: 'test', description: 'Running tests', percentage: 20 },
        { name: 'deploy', description: 'Deploying', percentage: 40 },
        { name: 'verify', description: 'Verifying', percentage: 10 },
      ] as const,
      taskFunction: async (_input, _setup, { signal }) => {
        deploy.notifyStep('build');
        await work(700, 1500, signal);
        deploy.notifyStep('test');
        await work(500, 1200, signal);
        maybeFail(0.12, '2 tests failed: checkout.spec.ts');
        deploy.notifyStep('deploy');
        await work(900, 1800, signal);
        deploy.notifyStep('verify');
        await work(300, 600, signal);
        return 'deployed';
      },
    });
    triggerable.push(deploy);

    for (const domain of tenant.domains) {
      const renew: Task<undefined, any, DomainData> = new Task({
        name: `${tenant.id}:renew-cert:${domain}`,
        data: { domain },
        labels: { ...labels, kind: 'certificate' },
        steps: [
          { name: 'order', description: 'Placing order', percentage: 20 },
          { name: 'challenge', description: 'DNS-01 challenge', percentage: 50 },
          { name: 'install', description: 'Installing', percentage: 30 },
        ] as const,
        taskFunction: async (_input, _setup, { signal }) => {
          renew.notifyStep('order');
          await work(300, 700, signal);
          renew.notifyStep('challenge');
          await work(800, 1800, signal);
          maybeFail(0.1, 'ACME: too many certificates for this domain');
          renew.notifyStep('install');
          await work(300, 600, signal);
        },
      });
      const dns: Task<undefined, any, DomainData> = new Task({
        name: `${tenant.id}:update-dns:${domain}`,
        data: { domain },
        labels: { ...labels, kind: 'dns' },
        taskFunction: async (_input, _setup, { signal }) => {
          await work(400, 1200, signal);
        },
      });
      triggerable.push(renew, dns);
    }

    const sync: Task<undefined, [], DomainData> = new Task({
      name: `${tenant.id}:sync-inventory`,
      labels: { ...labels, kind: 'sync' },
      retry: { retries: 1, backoffMs: 300 },
      taskFunction: async (_input, _setup, { signal }) => {
        await work(600, 1600, signal);
        maybeFail(0.25, 'upstream timed out after 1500 ms');
      },
    });
    triggerable.push(sync);
  }

  const ingest: Task<undefined, [], DomainData> = new Task({
    name: 'ingest-webhooks',
    buffered: true,
    bufferMax: 2,
    labels: { tenantId: 'globex', kind: 'ingest' },
    taskFunction: async (_input, _setup, { signal }) => {
      await work(400, 900, signal);
    },
  });

  const health: Task<undefined, any, DomainData> = new Task({
    name: 'health-check',
    labels: { kind: 'cron' },
    steps: [
      { name: 'probe', description: 'Probing endpoints', percentage: 70 },
      { name: 'report', description: 'Reporting', percentage: 30 },
    ] as const,
    taskFunction: async (_input, _setup, { signal }) => {
      health.notifyStep('probe');
      await work(600, 1200, signal);
      health.notifyStep('report');
      await work(200, 400, signal);
    },
  });
  const rollup: Task<undefined, [], DomainData> = new Task({
    name: 'acme:billing-rollup',
    labels: { tenantId: 'acme', kind: 'cron' },
    taskFunction: async (_input, _setup, { signal }) => {
      await work(1500, 2500, signal);
    },
  });

  for (const task of triggerable) manager.addTask(task);
  manager.addTask(ingest);
  if (scheduler !== undefined) {
    manager.addAndScheduleTask(health, '*/5 * * * * *');
    manager.addAndScheduleTask(rollup, '*/20 * * * * *');
  } else {
    manager.addTask(health);
    manager.addTask(rollup);
  }

  let dashboard: DashboardServer;
  try {
    dashboard = await startDashboardServer({
      manager,
      port: options.port ?? 3000,
      host: options.host ?? '127.0.0.1',
      title: 'taskbuffer demo',
      allowTrigger: true,
      // The server listens on the loopback interface; triggering is for this machine only.
      authorize: (request) => ['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(request.socket.remoteAddress ?? ''),
    });
  } catch (error) {
    await manager.stop();
    throw error;
  }
  await manager.start();

  const timers = new Set<ReturnType<typeof setTimeout>>();
  const every = (ms: number, action: () => void) => {
    const timer = setInterval(action, ms);
    timers.add(timer);
  };
  // Like a real service, the workload does not pile up triggers of a task still waiting or running:
  // with the per-domain cooldown, queues would otherwise grow for as long as the demo runs.
  const pending = new Set<Task<any, any, any>>();
  const fire = (task: Task<any, any, any>) => {
    if (pending.has(task)) return;
    pending.add(task);
    manager
      .triggerTask(task)
      // Failures show on the dashboard; the demo itself keeps going.
      .catch(() => undefined)
      .finally(() => pending.delete(task));
  };
  every(650, () => fire(pick(triggerable)));
  every(5000, () => {
    for (let index = 0; index < 5; index++) ingest.trigger().catch(() => undefined);
  });
  if (scheduler === undefined) {
    every(5000, () => fire(health));
    every(20_000, () => fire(rollup));
  }
  // A running start, so the first look at the page is not empty.
  for (const task of triggerable.slice(0, 6)) fire(task);

  const stopReporting = reportProgress(manager, options);

  let stopped: Promise<void> | undefined;
  return {
    url: dashboard.url,
    manager,
    dashboard,
    missing,
    stop(stopOptions = {}) {
      stopped ??= (async () => {
        for (const timer of timers) clearInterval(timer);
        stopReporting();
        const stopReportingDrain = reportDrain(manager, options);
        try {
          await manager.stop({ timeoutMs: stopOptions.timeoutMs ?? 10_000 });
        } finally {
          stopReportingDrain();
        }
        await dashboard.close();
      })();
      return stopped;
    },
  };
}

/** While the manager drains: "waiting for 3 runs…", a line each time one ends. */
function reportDrain(manager: TaskManager, options: DemoOptions): () => void {
  const output = options.output === undefined ? process.stdout : options.output;
  if (output === false) return () => undefined;
  let last = -1;
  const print = () => {
    // Triggers still waiting on constraints are cancelled by stop(); what runs is waited for.
    const left = manager.running;
    if (left === last) return;
    last = left;
    output.write(left === 0 ? 'every run has ended\n' : `waiting for ${left} ${left === 1 ? 'run' : 'runs'}…\n`);
  };
  print();
  const subscription = manager.taskSubject.subscribe((event: ITaskEvent) => {
    if (event.type === 'completed' || event.type === 'failed') queueMicrotask(print);
  });
  return () => {
    subscription.unsubscribe();
    print();
  };
}

/** A compact progress line from the event stream: one line rewritten on a terminal, else one every few seconds. */
function reportProgress(manager: TaskManager, options: DemoOptions): () => void {
  const output = options.output === undefined ? process.stdout : options.output;
  if (output === false) return () => undefined;
  const tty = (output as { isTTY?: boolean }).isTTY === true;
  const counts = { completed: 0, failed: 0, queued: 0, skipped: 0 };
  let last = '';
  const subscription = manager.taskSubject.subscribe((event: ITaskEvent) => {
    if (event.type === 'completed' || event.type === 'failed' || event.type === 'queued' || event.type === 'skipped') {
      counts[event.type]++;
    }
    if (event.type === 'failed') last = `✗ ${event.task.name}: ${event.error ?? 'failed'}`;
    else if (event.type === 'step') last = `${event.task.name} → ${event.stepName} (${Math.round(event.task.currentProgress)}%)`;
    else if (event.type === 'completed') last = `✓ ${event.task.name}`;
  });
  const print = () => {
    let running = 0;
    for (const task of manager.taskMap) if (task.running) running++;
    const time = new Date().toTimeString().slice(0, 8);
    const line =
      `[${time}] ${running} running · ${counts.completed} completed · ${counts.failed} failed · ` +
      `${counts.queued} waited on constraints · ${counts.skipped} skipped${last ? ` | ${last}` : ''}`;
    if (tty) {
      const width = (output as { columns?: number }).columns ?? 120;
      output.write(`\r\x1b[2K${line.slice(0, width - 1)}`);
    } else output.write(`${line}\n`);
  };
  const timer = setInterval(print, tty ? 500 : (options.logIntervalMs ?? 5000));
  return () => {
    clearInterval(timer);
    subscription.unsubscribe();
    if (tty) output.write('\n');
  };
}
