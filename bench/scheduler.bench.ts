/**
 * `@taskbuffer/scheduler` side by side with croner.
 *
 * - arming 10,000 schedules (10,000 distinct expressions, Europe/Berlin):
 *   wall time and heap, ours through `CronScheduler` alone and through a
 *   `TaskManager` with 10,000 tasks, croner as 10,000 `Cron` jobs;
 * - the same process left idle for a few seconds with every schedule armed
 *   (next runs days away): timer wake-ups (ours) and CPU time, next to an
 *   empty process, whose own idle CPU is the floor on this machine;
 * - 1,000 tasks due every second for 5 s (after a warm-up second): how late
 *   each run starts after its scheduled second, p50 / p99 / max; plus what
 *   waking up from a 1 s sleep costs on this machine (a walk over scattered
 *   objects, hot and right after a sleep), since every per-second run starts
 *   from one.
 *
 * Each case runs in its own child process (this file with an argument), a few
 * processes per implementation, interleaved; medians are reported. Prints a
 * markdown section and the goals with PASS/FAIL.
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Task, TaskManager, systemClock, type SchedulerHost } from '@taskbuffer/core';
import { CronScheduler, type SchedulerClock } from '@taskbuffer/scheduler';
import { Cron } from 'croner';

const SCHEDULES = 10_000;
const IDLE_MS = 3000;
const LATENESS_TASKS = 1000;
const LATENESS_SECONDS = 5;
const PROCESSES = 2;
const TIMEZONE = 'Europe/Berlin';

const gc: () => void = (globalThis as { gc?: () => void }).gc ?? (() => {});
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * 10,000 distinct expressions with seconds, all on one day of the month at
 * least ten days away, so that nothing is due while the process idles.
 */
function expressions(): string[] {
  const day = ((new Date().getUTCDate() + 10) % 28) + 1;
  return Array.from({ length: SCHEDULES }, (_, index) => {
    const second = index % 60;
    const minute = Math.floor(index / 60) % 60;
    const hour = Math.floor(index / 3600) % 24;
    return `${second} ${minute} ${hour} ${day} * *`;
  });
}

// ---------------------------------------------------------------------------
// Children
// ---------------------------------------------------------------------------

type ArmImplementation = 'none' | 'scheduler' | 'manager' | 'croner';

interface ArmResult {
  armMs: number;
  heapBytes: number;
  idleCpuMs: number;
  idleWakeUps: number | undefined;
}

async function armChild(implementation: ArmImplementation): Promise<ArmResult> {
  const list = expressions();
  let wakeUps = 0;
  // Counts the scheduler's timer callbacks; `monotonicNow` keeps clock-jump detection as with `systemClock`.
  const countingClock: SchedulerClock = {
    now: () => Date.now(),
    monotonicNow: () => performance.now(),
    setTimeout: (callback, delay, options) =>
      systemClock.setTimeout(
        () => {
          wakeUps++;
          callback();
        },
        delay,
        options,
      ),
    clearTimeout: (handle) => systemClock.clearTimeout(handle),
  };
  const host: SchedulerHost = {
    clock: countingClock,
    runScheduledTask: async () => {},
    reportSkippedTick: () => {},
  };
  const keep: unknown[] = [];
  let stop: () => void;
  gc();
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const start = performance.now();
  if (implementation === 'scheduler') {
    const scheduler = new CronScheduler({ timezone: TIMEZONE, clock: countingClock });
    for (let index = 0; index < SCHEDULES; index++) scheduler.schedule(`task-${index}`, list[index]!);
    scheduler.start(host);
    keep.push(scheduler);
    stop = () => scheduler.stop();
  } else if (implementation === 'manager') {
    const manager = new TaskManager({ scheduler: new CronScheduler({ timezone: TIMEZONE, clock: countingClock }) });
    for (let index = 0; index < SCHEDULES; index++) {
      manager.addAndScheduleTask(new Task({ name: `task-${index}`, taskFunction: () => {} }), list[index]!);
    }
    await manager.start();
    keep.push(manager);
    stop = () => void manager.stop();
  } else if (implementation === 'none') {
    stop = () => {};
    keep.push(list);
  } else {
    const jobs: Cron[] = [];
    for (let index = 0; index < SCHEDULES; index++) jobs.push(new Cron(list[index]!, { timezone: TIMEZONE }, () => {}));
    keep.push(jobs);
    stop = () => {
      for (const job of jobs) job.stop();
    };
  }
  const armMs = performance.now() - start;
  gc();
  gc();
  const heapBytes = process.memoryUsage().heapUsed - heapBefore;

  // Let background work of the arming (compilation, sweeping) finish first.
  await sleep(1000);
  const wakeUpsBefore = wakeUps;
  const cpuBefore = process.cpuUsage();
  await sleep(IDLE_MS);
  const cpu = process.cpuUsage(cpuBefore);
  const idleCpuMs = (cpu.user + cpu.system) / 1000;
  const idleWakeUps = implementation === 'croner' || implementation === 'none' ? undefined : wakeUps - wakeUpsBefore;
  stop();
  if (keep.length === 0) throw new Error('unreachable');
  return { armMs, heapBytes, idleCpuMs, idleWakeUps };
}

type LatenessImplementation = 'ours' | 'croner' | 'croner-utc';

interface LatenessResult {
  samples: number[];
  runs: number;
  expected: number;
}

interface EnvironmentResult {
  hotMs: number;
  afterIdleMs: number;
}

interface ChainNode {
  next: ChainNode | undefined;
  value: number;
}

/**
 * What waking up costs on this machine: a walk over 20,000 small objects
 * linked in shuffled order (scattered over the heap, as the tasks and
 * schedules of a wake-up are), back to back and right after a 1 s sleep.
 */
async function environmentChild(): Promise<EnvironmentResult> {
  const nodes: ChainNode[] = Array.from({ length: 20_000 }, (_, value) => ({ next: undefined, value }));
  for (let index = nodes.length - 1; index > 0; index--) {
    const other = (index * 7919) % (index + 1);
    [nodes[index], nodes[other]] = [nodes[other]!, nodes[index]!];
  }
  for (let index = 0; index < nodes.length - 1; index++) nodes[index]!.next = nodes[index + 1];
  let sink = 0;
  const work = () => {
    const start = performance.now();
    let sum = 0;
    for (let node: ChainNode | undefined = nodes[0]; node !== undefined; node = node.next) sum += node.value;
    const elapsed = performance.now() - start;
    sink += sum;
    return elapsed;
  };
  for (let index = 0; index < 50; index++) work();
  const hot: number[] = [];
  for (let index = 0; index < 5; index++) hot.push(work());
  const afterIdle: number[] = [];
  for (let index = 0; index < 5; index++) {
    await sleep(1000);
    afterIdle.push(work());
  }
  if (sink < 0) throw new Error('unreachable');
  return { hotMs: median(hot), afterIdleMs: median(afterIdle) };
}

async function latenessChild(implementation: LatenessImplementation): Promise<LatenessResult> {
  const samples: number[] = [];
  let measureFrom = Number.POSITIVE_INFINITY;
  let measureUntil = Number.POSITIVE_INFINITY;
  const record = () => {
    const now = Date.now();
    const scheduled = now - (now % 1000);
    if (scheduled >= measureFrom && scheduled < measureUntil) samples.push(now - scheduled);
  };
  let stop: () => Promise<void>;
  if (implementation === 'ours') {
    const manager = new TaskManager({ scheduler: new CronScheduler({ timezone: TIMEZONE }) });
    for (let index = 0; index < LATENESS_TASKS; index++) {
      manager.addAndScheduleTask(new Task({ name: `tick-${index}`, taskFunction: record }), '* * * * * *');
    }
    await manager.start();
    stop = () => manager.stop();
  } else {
    // croner without a time zone skips its per-job time-zone arithmetic.
    const options = implementation === 'croner' ? { timezone: TIMEZONE } : {};
    const jobs: Cron[] = [];
    for (let index = 0; index < LATENESS_TASKS; index++) jobs.push(new Cron('* * * * * *', options, record));
    stop = async () => {
      for (const job of jobs) job.stop();
    };
  }
  // One warm-up second, then LATENESS_SECONDS measured seconds.
  const firstSecond = Math.ceil(Date.now() / 1000) * 1000;
  measureFrom = firstSecond + 1000;
  measureUntil = measureFrom + LATENESS_SECONDS * 1000;
  await sleep(measureUntil - Date.now() + 600);
  await stop();
  return { samples, runs: samples.length, expected: LATENESS_TASKS * LATENESS_SECONDS };
}

// ---------------------------------------------------------------------------
// Parent
// ---------------------------------------------------------------------------

function runChild<T>(...args: string[]): T {
  const result = spawnSync(
    process.execPath,
    ['--expose-gc', '--conditions=source', '--import', 'tsx', fileURLToPath(import.meta.url), 'child', ...args],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (result.status !== 0) throw new Error(`child ${args.join(' ')} failed:\n${result.stderr}`);
  const line = result.stdout.trim().split('\n').at(-1)!;
  return JSON.parse(line) as T;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

const verdict = (pass: boolean) => (pass ? 'PASS' : 'FAIL');
const ms = (value: number) => value.toFixed(value < 10 ? 2 : 1);
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);

async function main(): Promise<void> {
  const [mode, kind, implementation] = process.argv.slice(2);
  if (mode === 'child') {
    const result =
      kind === 'arm'
        ? await armChild(implementation as ArmImplementation)
        : kind === 'environment'
          ? await environmentChild()
          : await latenessChild(implementation as LatenessImplementation);
    console.log(JSON.stringify(result));
    return;
  }

  const loadBefore = loadavg()[0]!;
  const arm: Record<ArmImplementation, ArmResult[]> = { none: [], scheduler: [], manager: [], croner: [] };
  for (let round = 0; round < PROCESSES; round++) {
    for (const implementation of ['scheduler', 'croner', 'manager', 'none'] as const) {
      arm[implementation].push(runChild<ArmResult>('arm', implementation));
    }
  }
  const lateness: Record<LatenessImplementation, LatenessResult[]> = { ours: [], croner: [], 'croner-utc': [] };
  for (const implementation of ['ours', 'croner', 'croner-utc', 'ours'] as const) {
    lateness[implementation].push(runChild<LatenessResult>('lateness', implementation));
  }

  const armSummary = (implementation: ArmImplementation) => ({
    armMs: median(arm[implementation].map((result) => result.armMs)),
    heapBytes: median(arm[implementation].map((result) => result.heapBytes)),
    idleCpuMs: median(arm[implementation].map((result) => result.idleCpuMs)),
    idleWakeUps: arm[implementation].map((result) => result.idleWakeUps ?? 0).reduce((a, b) => Math.max(a, b), 0),
  });
  const environment = runChild<EnvironmentResult>('environment');
  const empty = armSummary('none');
  const scheduler = armSummary('scheduler');
  const manager = armSummary('manager');
  const croner = armSummary('croner');
  const latenessSummary = (implementation: LatenessImplementation) => {
    const samples = lateness[implementation].flatMap((result) => result.samples);
    return {
      p50: percentile(samples, 0.5),
      p99: percentile(samples, 0.99),
      max: Math.max(...samples),
      runs: lateness[implementation].map((result) => result.runs),
      expected: lateness[implementation][0]!.expected,
    };
  };
  const oursLate = latenessSummary('ours');
  const cronerLate = latenessSummary('croner');
  const cronerUtcLate = latenessSummary('croner-utc');

  const lines = [
    '## Scheduler: `@taskbuffer/scheduler` vs croner 11',
    '',
    `Node ${process.version}, ${cpus().length} cores, load average ${loadBefore.toFixed(1)} before and ${loadavg()[0]!.toFixed(1)} after. ${SCHEDULES.toLocaleString('en')} distinct 6-field expressions in ${TIMEZONE}; ` +
      `medians of ${PROCESSES} processes per implementation; lateness from ${lateness.ours.length} processes for ours and ${lateness.croner.length} for each croner variant, ` +
      `${LATENESS_TASKS.toLocaleString('en')} tasks × ${LATENESS_SECONDS} s after a warm-up second.`,
    '',
    '| measure | taskbuffer `CronScheduler` | taskbuffer `TaskManager` + tasks | croner `Cron` jobs | scheduler / croner |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| arm 10,000 schedules (ms) | ${ms(scheduler.armMs)} | ${ms(manager.armMs)} | ${ms(croner.armMs)} | ${(scheduler.armMs / croner.armMs).toFixed(2)} |`,
    `| heap for 10,000 schedules (MB) | ${mb(scheduler.heapBytes)} | ${mb(manager.heapBytes)} | ${mb(croner.heapBytes)} | ${(scheduler.heapBytes / croner.heapBytes).toFixed(2)} |`,
    `| CPU while idle for ${IDLE_MS / 1000} s (ms; an empty process: ${ms(empty.idleCpuMs)}) | ${ms(scheduler.idleCpuMs)} | ${ms(manager.idleCpuMs)} | ${ms(croner.idleCpuMs)} | |`,
    `| timer wake-ups while idle | ${scheduler.idleWakeUps} | ${manager.idleWakeUps} | n/a (one timer per job, re-armed every 30 s) | |`,
    '',
    `| 1,000 tasks due every second | taskbuffer (\`TaskManager\`, ${TIMEZONE}) | croner (${TIMEZONE}) | croner (no time zone) |`,
    '| --- | ---: | ---: | ---: |',
    `| lateness p50 (ms) | ${ms(oursLate.p50)} | ${ms(cronerLate.p50)} | ${ms(cronerUtcLate.p50)} |`,
    `| lateness p99 (ms) | ${ms(oursLate.p99)} | ${ms(cronerLate.p99)} | ${ms(cronerUtcLate.p99)} |`,
    `| lateness max (ms) | ${ms(oursLate.max)} | ${ms(cronerLate.max)} | ${ms(cronerUtcLate.max)} |`,
    `| runs per process (expected ${oursLate.expected.toLocaleString('en')}) | ${oursLate.runs.join(', ')} | ${cronerLate.runs.join(', ')} | ${cronerUtcLate.runs.join(', ')} |`,
    '',
    `Waking up costs on this machine: walking 20,000 scattered objects takes ${ms(environment.hotMs)} ms back to back ` +
      `and ${ms(environment.afterIdleMs)} ms right after a 1 s sleep (×${(environment.afterIdleMs / environment.hotMs).toFixed(1)}); ` +
      'every run of a per-second schedule starts from such a wake-up.',
    '',
    '| goal | measured | result |',
    '| --- | --- | --- |',
    `| arming 10,000 schedules takes under 1 s | ${ms(scheduler.armMs)} ms (with a TaskManager and tasks: ${ms(manager.armMs)} ms) | ${verdict(scheduler.armMs < 1000 && manager.armMs < 1000)} |`,
    `| heap for 10,000 schedules ≤ 10,000 croner jobs | ${mb(scheduler.heapBytes)} MB vs ${mb(croner.heapBytes)} MB (×${(scheduler.heapBytes / croner.heapBytes).toFixed(2)}) | ${verdict(scheduler.heapBytes <= croner.heapBytes)} |`,
    `| no CPU while idle between ticks (no polling) | ${scheduler.idleWakeUps} timer wake-ups in ${IDLE_MS / 1000} s; ${ms(scheduler.idleCpuMs)} ms CPU vs ${ms(empty.idleCpuMs)} ms for an empty process | ${verdict(scheduler.idleWakeUps === 0 && manager.idleWakeUps === 0)} |`,
    `| p99 lateness of 1,000 tasks every second < 10 ms | ${ms(oursLate.p99)} ms, ${oursLate.runs.join(' / ')} of ${oursLate.expected} runs | ${verdict(oursLate.p99 < 10 && oursLate.runs.every((runs) => runs === oursLate.expected))} |`,
  ];
  console.log(lines.join('\n'));
}

await main();
