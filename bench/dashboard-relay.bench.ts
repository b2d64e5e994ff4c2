/**
 * The dashboard relay (`relayToRedis`) and the merged source
 * (`RedisDashboardSource`) against a private `redis-server` on a free
 * loopback port.
 *
 * - CPU: one instance runs 500 runs/s (1,000 events/s: `started` and
 *   `completed`) over 20 tasks for 10 s, with the relay, without it, and with
 *   only a listener that does nothing (what core spends building events for
 *   anyone who listens), each in a fresh child process, in rotating order,
 *   3 times each. `process.cpuUsage()` around the 10 s (after 2 s of
 *   warm-up); the relay's cost is the difference of the medians, as a share of
 *   one core (what `top` shows as %CPU) and of the instance's own CPU time.
 * - Redis memory: `MEMORY USAGE` of the stream at its cap (1,000 entries, the
 *   default), filled at the same load (an entry per 100 ms: 100 events, 50
 *   runs) and in bursts (every entry as full as the relay makes one: 1,000
 *   events); and of one instance's presence record.
 * - Merged latency: 3 instances (each with its own relay) and one source;
 *   for 10 s each instance runs 20 runs/s; the time from a run's end to the
 *   source's update carrying it ended.
 *
 * Prints a markdown section with the figures and the goals as PASS/FAIL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Task, TaskManager } from '@taskbuffer/core';
import { RedisDashboardSource, relayToRedis } from '@taskbuffer/coordinator-redis';
import { createClient } from 'redis';

const TASKS = 20;
const RUNS_PER_SECOND = 500;
const MEASURE_MS = 10_000;
const WARMUP_MS = 2_000;
const REPETITIONS = 3;
const quiet = { warn: () => {}, info: () => {} };

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

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

async function startRedis(): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'taskbuffer-bench-relay-'));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 10_000;
  while (!(await ping(port))) {
    if (Date.now() > deadline) throw new Error('redis-server did not start');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () => {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function makeManager(instanceId: string): { manager: TaskManager; tasks: Task<any, any, any>[] } {
  const manager = new TaskManager({ instanceId });
  const tasks = Array.from({ length: TASKS }, (_, index) => new Task({ name: `task-${index}`, taskFunction: () => index }));
  for (const task of tasks) manager.addTask(task);
  return { manager, tasks };
}

/** Triggers `perSecond` runs a second, in 10 ms slices, until `stop()`. */
function drive(manager: TaskManager, tasks: Task<any, any, any>[], perSecond: number): () => void {
  let next = 0;
  let owed = 0;
  const perSlice = perSecond / 100;
  const timer = setInterval(() => {
    owed += perSlice;
    for (; owed >= 1; owed--) void manager.triggerTask(tasks[next++ % tasks.length]!);
  }, 10);
  return () => clearInterval(timer);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** One measured run in this (child) process: CPU ms over MEASURE_MS, with or without the relay. */
type Mode = 'relay' | 'baseline' | 'listener';

async function child(mode: Mode, url: string): Promise<void> {
  const { manager, tasks } = makeManager('bench');
  const relay = mode === 'relay' ? relayToRedis(manager, { url, keyPrefix: `bench-cpu:${process.pid}:`, logger: quiet }) : undefined;
  if (mode === 'listener') manager.taskSubject.subscribe(() => undefined);
  // Events are counted through run counts: a listener of its own would make the baseline build events too.
  const stop = drive(manager, tasks, RUNS_PER_SECOND);
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  const runsBefore = tasks.reduce((sum, task) => sum + task.runCount, 0);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, MEASURE_MS));
  const cpu = process.cpuUsage(cpuBefore);
  const wall = performance.now() - started;
  const events = (tasks.reduce((sum, task) => sum + task.runCount, 0) - runsBefore) * 2;
  stop();
  const entries = relay?.entriesWritten ?? 0;
  await relay?.close();
  await manager.stop();
  process.stdout.write(`${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, wall, events, entries })}\n`);
  process.exit(0);
}

function runChild(mode: Mode, url: string): Promise<{ cpuMs: number; wall: number; events: number; entries: number }> {
  return new Promise((resolve, reject) => {
    const file = fileURLToPath(import.meta.url);
    const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', file, '--child', mode, url], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    proc.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.on('exit', (code) => {
      const line = output.trim().split('\n').at(-1);
      if (code !== 0 || line === undefined) reject(new Error(`child ${mode} exited ${code}: ${output}`));
      else resolve(JSON.parse(line));
    });
  });
}

async function memory(url: string): Promise<{ steady: number; steadyLength: number; burst: number; burstLength: number; presence: number }> {
  const client = createClient({ url });
  await client.connect();
  const fill = async (keyPrefix: string, runsPerEntry: number) => {
    const { manager, tasks } = makeManager('memory');
    const relay = relayToRedis(manager, { url, keyPrefix, logger: quiet, flushMs: 60_000 });
    for (let entry = 0; entry < 1300; entry++) {
      for (let run = 0; run < runsPerEntry; run++) await manager.triggerTask(tasks[run % tasks.length]!);
      await relay.flush();
    }
    const stream = `${keyPrefix}stream`;
    const usage = Number(await client.sendCommand(['MEMORY', 'USAGE', stream, 'SAMPLES', '0']));
    const length = Number(await client.sendCommand(['XLEN', stream]));
    const presence = Number(await client.sendCommand(['MEMORY', 'USAGE', `${keyPrefix}instance:memory`]));
    await relay.close();
    await manager.stop();
    return { usage, length, presence };
  };
  const steady = await fill('bench-memory-steady:', 50);
  // 1,000 events (500 runs) make the relay write an entry at once: the fullest entry it writes.
  const burst = await fill('bench-memory-burst:', 500);
  await client.close();
  return { steady: steady.usage, steadyLength: steady.length, burst: burst.usage, burstLength: burst.length, presence: steady.presence };
}

async function latency(url: string): Promise<{ runs: number; p50: number; p99: number; max: number }> {
  const keyPrefix = 'bench-latency:';
  const instances = ['web-1', 'web-2', 'web-3'].map((id) => {
    const made = makeManager(id);
    const relay = relayToRedis(made.manager, { url, keyPrefix, logger: quiet });
    return { ...made, relay };
  });
  const source = new RedisDashboardSource({ url, keyPrefix, logger: quiet });
  await source.getSnapshot();
  const delays: number[] = [];
  const seen = new Set<string>();
  const subscription = source.subscribe({
    update(update) {
      const now = Date.now();
      for (const run of update.runs ?? []) {
        if (run.endedAt === undefined || seen.has(run.id)) continue;
        seen.add(run.id);
        delays.push(now - run.endedAt);
      }
    },
  });
  const stops = instances.map(({ manager, tasks }) => drive(manager, tasks, 20));
  await new Promise((resolve) => setTimeout(resolve, MEASURE_MS));
  for (const stop of stops) stop();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  subscription.unsubscribe();
  await source.close();
  for (const { relay, manager } of instances) {
    await relay.close();
    await manager.stop();
  }
  const sorted = [...delays].sort((a, b) => a - b);
  return {
    runs: sorted.length,
    p50: sorted[Math.floor(sorted.length * 0.5)]!,
    p99: sorted[Math.floor(sorted.length * 0.99)]!,
    max: sorted.at(-1)!,
  };
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

async function main(): Promise<void> {
  const redis = await startRedis();
  try {
    const baseline: number[] = [];
    const relayed: number[] = [];
    const listened: number[] = [];
    const walls: number[] = [];
    const events: number[] = [];
    let entries = 0;
    for (let repetition = 0; repetition < REPETITIONS; repetition++) {
      const modes: Mode[] = ['baseline', 'listener', 'relay'];
      const order = [...modes.slice(repetition % 3), ...modes.slice(0, repetition % 3)];
      for (const mode of order) {
        const result = await runChild(mode, redis.url);
        (mode === 'relay' ? relayed : mode === 'listener' ? listened : baseline).push(result.cpuMs);
        walls.push(result.wall);
        events.push(result.events);
        if (mode === 'relay') entries = result.entries;
      }
    }
    const wall = median(walls);
    const extra = median(relayed) - median(baseline);
    const shareOfCore = extra / wall;
    const shareOfInstance = extra / median(baseline);
    const perSecond = median(events) / (wall / 1000);
    const mem = await memory(redis.url);
    const lat = await latency(redis.url);

    console.log('### Dashboard relay (Redis)\n');
    console.log(
      `A private \`redis-server\` on loopback, node-redis client. CPU: ${TASKS} tasks, ${RUNS_PER_SECOND} runs/s ` +
        `(${perSecond.toFixed(0)} events/s measured) for ${MEASURE_MS / 1000} s after ${WARMUP_MS / 1000} s of warm-up, ` +
        `without the relay, with a listener that does nothing, and with the relay, each in a fresh process, in rotating order, ${REPETITIONS} times each; \`process.cpuUsage()\` around the ${MEASURE_MS / 1000} s.\n`,
    );
    console.log('| figure | measured |');
    console.log('| --- | ---: |');
    console.log(`| instance CPU without the relay (median; runs: ${baseline.map((ms) => ms.toFixed(0)).join(', ')} ms) | ${median(baseline).toFixed(0)} ms |`);
    console.log(`| instance CPU with a listener that does nothing (median; runs: ${listened.map((ms) => ms.toFixed(0)).join(', ')} ms) | ${median(listened).toFixed(0)} ms |`);
    console.log(`| instance CPU with the relay (median; runs: ${relayed.map((ms) => ms.toFixed(0)).join(', ')} ms) | ${median(relayed).toFixed(0)} ms |`);
    console.log(`| the relay's cost: share of one core | ${(shareOfCore * 100).toFixed(2)}% |`);
    console.log(`| of which core building events for a listener: share of one core | ${(((median(listened) - median(baseline)) / wall) * 100).toFixed(2)}% |`);
    console.log(`| the relay's cost: share of the instance's own CPU time | ${(shareOfInstance * 100).toFixed(1)}% |`);
    console.log(`| stream entries written in ${MEASURE_MS / 1000 + WARMUP_MS / 1000} s | ${entries} |`);
    console.log(`| stream at its cap (1,000 entries), at this load: \`MEMORY USAGE\` (XLEN ${mem.steadyLength}) | ${mib(mem.steady)} |`);
    console.log(`| stream at its cap, every entry full (1,000 events; XLEN ${mem.burstLength}) | ${mib(mem.burst)} |`);
    console.log(`| one instance's presence record (${TASKS} tasks) | ${kib(mem.presence)} |`);
    console.log(`| merged dashboard, 3 instances × 20 runs/s: run end → source update (${lat.runs} runs) | p50 ${lat.p50} ms, p99 ${lat.p99} ms, max ${lat.max} ms |`);
    console.log('');
    console.log('| goal | measured | result |');
    console.log('| --- | ---: | --- |');
    console.log(`| relay < 1% CPU at 1,000 events/s (share of one core) | ${(shareOfCore * 100).toFixed(2)}% | ${shareOfCore < 0.01 ? 'PASS' : 'FAIL'} |`);
    console.log(`| Redis memory bounded and stated | ${mib(mem.burst)} at most for the stream (default cap) | PASS |`);
    console.log(`| every run of 3 instances shown within 500 ms of its end | max ${lat.max} ms | ${lat.max < 500 ? 'PASS' : 'FAIL'} |`);
    console.log('');
  } finally {
    redis.stop();
  }
}

if (process.argv[2] === '--child') await child(process.argv[3] as Mode, process.argv[4]!);
else await main();
