/**
 * A small service as it would run under Kubernetes, systemd or PM2: a manager
 * with constraint groups, a steady trickle of work, and an HTTP server. On
 * SIGTERM it drains the manager, then closes the server, and exits on its own.
 *
 * It prints one JSON line per run event and per lifecycle step, which
 * `shutdown.test.ts` reads.
 */
import { createServer } from 'node:http';
import { TaskConstraintGroup } from '@taskbuffer/constraints';
import { Task, TaskManager } from '@taskbuffer/core';

const print = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

const manager = new TaskManager();
manager.addConstraintGroup(
  new TaskConstraintGroup<{ account: string }>({
    name: 'per-account',
    maxConcurrent: 1,
    constraintKeyForExecution: (task) => task.data.account,
  }),
);

const tasks = ['acme', 'globex', 'initech'].map(
  (account) =>
    new Task<undefined, [], { account: string }>({
      name: `sync:${account}`,
      data: { account },
      // Work that honours its signal, as every task function should.
      taskFunction: async (_input, _setup, { signal }) => {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, 300 + Math.random() * 500);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(signal.reason);
          }, { once: true });
        });
        return account;
      },
    }),
);
for (const task of tasks) manager.addTask(task);

let run = 0;
manager.taskSubject.subscribe((event) => {
  if (event.type === 'started' || event.type === 'completed' || event.type === 'failed') {
    print({ event: event.type, task: event.task.name, error: event.error });
  }
});

const server = createServer((_request, response) => response.end('ok'));
server.listen(0, '127.0.0.1', () => print({ event: 'listening' }));
// Clients that keep a connection open, like a load balancer's health checks.
server.keepAliveTimeout = 60_000;

const workload = setInterval(() => {
  const task = tasks[run++ % tasks.length]!;
  manager.triggerTask(task).catch(() => undefined);
}, 40);

process.once('SIGTERM', async () => {
  print({ event: 'sigterm', running: manager.running, waiting: manager.waiting });
  clearInterval(workload);
  await manager.stop({ timeoutMs: 10_000 });
  print({ event: 'manager-stopped', running: manager.running });
  server.close();
  server.closeAllConnections();
});
