/**
 * One instance of the chaos test's cluster: a TaskManager with a CronScheduler
 * and a RedisCoordinator, scheduling an every-second and an every-3-seconds
 * task. It reports every run (with the tick it was granted) and every outage
 * log line to the parent over IPC.
 *
 * Run by chaos.ts as `node --conditions=source --import tsx chaos-worker.ts`.
 */
import { type IDistributedTaskRequest, Task, TaskManager } from '@taskbuffer/core';
import { CronScheduler } from '@taskbuffer/scheduler';
import { type RedisClaimResult, RedisCoordinator } from '../src/index.js';

export const CHAOS_TASKS = { 'every-second': '* * * * * *', 'every-3s': '*/3 * * * * *' } as const;

export type WorkerMessage =
  | { type: 'ready'; worker: string }
  | { type: 'run'; worker: string; task: string; tick: number | undefined; fence: number; startedAt: number }
  | { type: 'log'; worker: string; level: 'warn' | 'info'; message: string; at: number }
  | { type: 'skip'; worker: string; task: string; tick: number; reason: string };

const worker = process.env.CHAOS_WORKER_ID ?? `w${process.pid}`;
const url = process.env.REDIS_URL;
const send = (message: WorkerMessage) => {
  // A run that ends while the worker stops finds the channel closed; that report is not needed.
  if (process.connected) process.send?.(message, undefined, undefined, () => undefined);
};

/** Remembers, per task, the tick this instance was granted last, for the run that follows. */
class RecordingCoordinator extends RedisCoordinator {
  readonly granted = new Map<string, { tick: number; fence: number }>();

  override async fireDistributedTaskRequest(request: IDistributedTaskRequest): Promise<RedisClaimResult> {
    const result = await super.fireDistributedTaskRequest(request);
    if (result.shouldTrigger) this.granted.set(request.taskName, { tick: request.taskExecutionTime, fence: result.fence });
    return result;
  }
}

const coordinator = new RecordingCoordinator({
  url,
  logger: {
    warn: (message) => send({ type: 'log', worker, level: 'warn', message, at: Date.now() }),
    info: (message) => send({ type: 'log', worker, level: 'info', message, at: Date.now() }),
  },
});
const manager = new TaskManager({ scheduler: new CronScheduler(), distributedCoordinator: coordinator, instanceId: worker });

for (const [name, expression] of Object.entries(CHAOS_TASKS)) {
  const task = new Task({
    name,
    taskFunction: async () => {
      const claim = coordinator.granted.get(name);
      coordinator.granted.delete(name);
      send({ type: 'run', worker, task: name, tick: claim?.tick, fence: claim?.fence ?? 0, startedAt: Date.now() });
      await new Promise((resolve) => setTimeout(resolve, 20));
    },
  });
  manager.addAndScheduleTask(task, expression);
}

manager.taskSubject.subscribe((event) => {
  if (event.type === 'skipped' && event.scheduledTime !== undefined) {
    send({ type: 'skip', worker, task: event.task.name, tick: event.scheduledTime, reason: event.reason ?? '' });
  }
});

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void manager.stop().finally(() => process.disconnect?.());
});
process.on('disconnect', () => {
  if (!stopping) {
    stopping = true;
    void manager.stop();
  }
});

await manager.start();
send({ type: 'ready', worker });
