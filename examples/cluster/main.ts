/**
 * `pnpm demo:cluster`: three instances of one service, each a TaskManager with
 * a CronScheduler and a RedisCoordinator, schedule the same tasks. Every tick
 * runs on exactly one of them; this prints which. Each instance also takes
 * orders of its own, and relays its runs to Redis (`relayToRedis`); the parent
 * serves the merged dashboard of all three (`RedisDashboardSource`) on
 * 127.0.0.1 and prints its URL.
 *
 * Redis: `REDIS_URL` if set, otherwise a private `redis-server` on a free
 * loopback port (stopped again on exit). The dashboard: `PORT` (default 3001,
 * or a free port when that is taken). Stop with Ctrl-C, or set `DEMO_SECONDS`
 * to stop after that many seconds.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type IDistributedTaskRequest, Task, TaskManager } from '@taskbuffer/core';
import { type RedisClaimResult, RedisCoordinator, RedisDashboardSource, relayToRedis } from '@taskbuffer/coordinator-redis';
import { type DashboardServer, startDashboardServer } from '@taskbuffer/dashboard/server';
import { CronScheduler } from '@taskbuffer/scheduler';

const INSTANCES = 3;
const TASKS = { heartbeat: '* * * * * *', 'send-report': '*/5 * * * * *' } as const;
/** Where the instances relay their runs and the merged dashboard reads them. */
const DASHBOARD_PREFIX = 'taskbuffer:demo:dashboard:';
const DEFAULT_PORT = 3001;

type Message =
  | { type: 'ready'; instance: string }
  | { type: 'ran'; instance: string; task: string; tick: number; fence: number }
  | { type: 'skipped'; instance: string; task: string; tick: number; reason: string };

if (process.env.CLUSTER_INSTANCE !== undefined) {
  await runInstance(process.env.CLUSTER_INSTANCE, process.env.REDIS_URL!);
} else {
  await runCluster();
}

/** One instance of the service (a child process). */
async function runInstance(instance: string, url: string): Promise<void> {
  const send = (message: Message) => {
    if (process.connected) process.send?.(message, undefined, undefined, () => undefined);
  };
  const fences = new Map<string, { tick: number; fence: number }>();
  // Keeps the tick and fencing number of each granted claim, to print them with the run.
  class DemoCoordinator extends RedisCoordinator {
    override async fireDistributedTaskRequest(request: IDistributedTaskRequest): Promise<RedisClaimResult> {
      const result = await super.fireDistributedTaskRequest(request);
      if (result.shouldTrigger) fences.set(request.taskName, { tick: request.taskExecutionTime, fence: result.fence });
      return result;
    }
  }
  const coordinator = new DemoCoordinator({ url, keyPrefix: 'taskbuffer:demo:' });
  const manager = new TaskManager({ scheduler: new CronScheduler(), distributedCoordinator: coordinator, instanceId: instance });
  for (const [name, expression] of Object.entries(TASKS)) {
    manager.addAndScheduleTask(
      new Task({
        name,
        taskFunction: async () => {
          const granted = fences.get(name);
          if (granted !== undefined) send({ type: 'ran', instance, task: name, ...granted });
          await new Promise((resolve) => setTimeout(resolve, 50));
        },
      }),
      expression,
    );
  }
  // Work that arrives at each instance on its own (orders through a load balancer, say).
  const orders = new Task({
    name: 'process-order',
    taskFunction: async () => {
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 400));
      if (Math.random() < 0.1) throw new Error('payment provider timed out');
    },
  });
  manager.addTask(orders);
  const orderTimer = setInterval(() => void manager.triggerTask(orders).catch(() => undefined), 800 + Math.random() * 600);
  // The instance's runs go to the merged dashboard; "Run" on that page may start this instance's tasks.
  const relay = relayToRedis(manager, { url, instanceId: instance, keyPrefix: DASHBOARD_PREFIX, allowTrigger: true });
  manager.taskSubject.subscribe((event) => {
    if (event.type === 'skipped' && event.scheduledTime !== undefined) {
      send({ type: 'skipped', instance, task: event.task.name, tick: event.scheduledTime, reason: event.reason ?? '' });
    }
  });
  const shutdown = async () => {
    clearInterval(orderTimer);
    // Drain within the 5 s the parent allows before it kills the instance; the relay
    // still publishes the events of the runs that finish meanwhile.
    await manager.stop({ timeoutMs: 3_000 });
    await relay.close();
  };
  const stop = () => void shutdown().finally(() => process.disconnect?.());
  process.once('SIGTERM', stop);
  process.once('SIGINT', () => undefined); // the parent decides when to stop
  process.once('disconnect', () => void shutdown());
  await manager.start();
  send({ type: 'ready', instance });
}

/** The parent: Redis, three instances, and a line per tick. */
async function runCluster(): Promise<void> {
  let redisProcess: ChildProcess | undefined;
  let redisDir: string | undefined;
  let url = process.env.REDIS_URL;
  if (url === undefined) {
    const port = await freePort();
    redisDir = mkdtempSync(join(tmpdir(), 'taskbuffer-demo-redis-'));
    redisProcess = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', redisDir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'],
      { stdio: 'ignore' },
    );
    const failed = await new Promise<boolean>((resolve) => {
      redisProcess!.once('error', () => resolve(true));
      redisProcess!.once('spawn', () => resolve(false));
    });
    if (failed) {
      console.error('No REDIS_URL given and `redis-server` is not installed: set REDIS_URL=redis://host:port or install Redis.');
      rmSync(redisDir, { recursive: true, force: true });
      process.exit(1);
    }
    url = `redis://127.0.0.1:${port}`;
    console.log(`Started a private redis-server on ${url} (AOF on, stopped on exit).`);
  } else {
    console.log(`Using Redis at ${url.replace(/\/\/[^@]*@/, '//***@')}.`);
  }

  const children = new Map<string, ChildProcess>();
  const ticks = new Map<string, { ran: { instance: string; fence: number }[]; skipped: string[] }>();
  const tickOf = (task: string, tick: number) => {
    const key = `${tick}|${task}`;
    let entry = ticks.get(key);
    if (entry === undefined) {
      entry = { ran: [], skipped: [] };
      ticks.set(key, entry);
      // Print the tick once every instance had its say.
      setTimeout(() => print(task, tick, entry!), 900);
    }
    return entry;
  };
  const print = (task: string, tick: number, entry: { ran: { instance: string; fence: number }[]; skipped: string[] }) => {
    const time = new Date(tick).toISOString().slice(11, 19);
    const who =
      entry.ran.length === 0
        ? 'nobody (skipped)'
        : entry.ran.map((run) => `${run.instance} (fence ${run.fence})`).join(' AND ');
    const warning = entry.ran.length > 1 ? '   <-- ran more than once!' : '';
    console.log(`${time}  ${task.padEnd(12)} ran on ${who}${entry.skipped.length > 0 ? `; skipped by ${entry.skipped.join(', ')}` : ''}${warning}`);
  };

  const ready: Promise<void>[] = [];
  for (let index = 1; index <= INSTANCES; index++) {
    const instance = `instance-${index}`;
    const child = fork(process.argv[1]!, [], {
      env: { ...process.env, CLUSTER_INSTANCE: instance, REDIS_URL: url },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.set(instance, child);
    ready.push(
      new Promise((resolve) => {
        child.on('message', (message: Message) => {
          if (message.type === 'ready') resolve();
          else if (message.type === 'ran') tickOf(message.task, message.tick).ran.push(message);
          else tickOf(message.task, message.tick).skipped.push(message.instance);
        });
      }),
    );
  }
  await Promise.all(ready);
  const source = new RedisDashboardSource({ url, keyPrefix: DASHBOARD_PREFIX });
  const dashboard = await serveDashboard(source);
  console.log(`${INSTANCES} instances running ${Object.keys(TASKS).join(' and ')}; each tick should run on exactly one. Ctrl-C to stop.`);
  console.log(`Merged dashboard of the ${INSTANCES} instances: ${dashboard.url}\n`);

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await dashboard.close();
    await source.close();
    await Promise.all(
      [...children.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 5000).unref();
          }),
      ),
    );
    redisProcess?.kill('SIGTERM');
    // Let the last ticks be printed first.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (redisDir !== undefined) rmSync(redisDir, { recursive: true, force: true });
    const entries = [...ticks.values()];
    const twice = entries.filter((entry) => entry.ran.length > 1).length;
    const perInstance = new Map<string, number>();
    for (const entry of entries) for (const run of entry.ran) perInstance.set(run.instance, (perInstance.get(run.instance) ?? 0) + 1);
    console.log(
      `\n${entries.length} ticks seen, ${twice} ran more than once. Runs per instance: ` +
        `${[...perInstance].map(([instance, count]) => `${instance} ${count}`).join(', ')}.`,
    );
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
  const seconds = Number(process.env.DEMO_SECONDS ?? 0);
  if (seconds > 0) setTimeout(() => void shutdown(), seconds * 1000);
}

/** Serves the merged dashboard on 127.0.0.1: `PORT`, or 3001, or a free port when 3001 is taken. */
async function serveDashboard(source: RedisDashboardSource): Promise<DashboardServer> {
  const requested = process.env.PORT === undefined || process.env.PORT === '' ? undefined : Number(process.env.PORT);
  const start = (port: number) =>
    startDashboardServer({
      source,
      port,
      host: '127.0.0.1',
      title: 'taskbuffer cluster demo',
      allowTrigger: true,
      // Triggering is for this machine only.
      authorize: (request) => ['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(request.socket.remoteAddress ?? ''),
    });
  try {
    return await start(requested ?? DEFAULT_PORT);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || requested !== undefined) throw error;
    return await start(0);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}
