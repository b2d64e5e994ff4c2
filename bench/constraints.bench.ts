/**
 * Constraint engine throughput and cooldown precision, side by side with
 * `p-limit` and `p-queue` (which enforce only a concurrency cap).
 *
 * - 100,000 triggers of one task through `manager.triggerTaskConstrained(task, i)`
 *   with two groups: a global cap of 10 and a per-key mutex over 1,000 keys
 *   (`k${i % 1000}`). The task body awaits once. Peers run the same 100,000
 *   bodies under a cap of 10. Each contender runs in fresh child processes
 *   (rotating order), set up once per process and timed over back-to-back
 *   runs; medians. For comparison, all three also run in this process,
 *   alternating, with a forced GC before each run.
 * - the same scenario with 200,000 triggers: the time must grow linearly.
 * - cooldown precision: 100 keys with `cooldownMs: 50` (a third group), each
 *   triggered several times, while the 100,000-trigger load runs through the
 *   same manager; the gap between the end of one run of a key and the start of
 *   the next is measured.
 *
 * Prints a markdown section with the figures and the goals as PASS/FAIL.
 */
import { spawnSync } from 'node:child_process';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Task, TaskManager } from '@taskbuffer/core';
import { TaskConstraintGroup } from '@taskbuffer/constraints';
import pLimit from 'p-limit';
import PQueue from 'p-queue';

const TRIGGERS = 100_000;
const KEYS = 1_000;
const CAP = 10;
/** Child processes per contender, in rotating order. */
const ROUNDS = 4;
/** Timed runs in each child, after two warm-up runs. */
const RUNS_PER_CHILD = 3;
const SCALING_CHILDREN = 3;
const FORCED_GC_ROUNDS = 5;
const COOLDOWN_MS = 50;
const COOLDOWN_KEYS = 100;
const COOLDOWN_RUNS_PER_KEY = 5;
const COOLDOWN_REPETITIONS = 3;

const gc: () => void = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** The body every contender runs: it awaits once. */
async function body(input: number): Promise<number> {
  await null;
  return input;
}

function createManager(): { manager: TaskManager; task: Task<undefined, [], Record<string, unknown>, number> } {
  const manager = new TaskManager();
  manager.addConstraintGroup(
    new TaskConstraintGroup({ name: 'global-cap', maxConcurrent: CAP, constraintKeyForExecution: () => 'all' }),
  );
  manager.addConstraintGroup(
    new TaskConstraintGroup({
      name: 'per-key',
      maxConcurrent: 1,
      constraintKeyForExecution: (_task, input?: number) => `k${(input ?? 0) % KEYS}`,
    }),
  );
  const task = new Task({ name: 'work', taskFunction: body });
  manager.addTask(task);
  return { manager, task };
}

// Each contender is set up once per process and reused by every run, as a
// long-running service would hold one manager (or one limiter, one queue).
let ourSetup: ReturnType<typeof createManager> | undefined;
let limiter: ReturnType<typeof pLimit> | undefined;
let queue: PQueue | undefined;

async function runOurs(count: number): Promise<number> {
  ourSetup ??= createManager();
  const { manager, task } = ourSetup;
  const promises = new Array<Promise<unknown>>(count);
  const start = performance.now();
  for (let index = 0; index < count; index++) promises[index] = manager.triggerTaskConstrained(task, index);
  await Promise.all(promises);
  return performance.now() - start;
}

async function runPLimit(count: number): Promise<number> {
  limiter ??= pLimit(CAP);
  const limit = limiter;
  const promises = new Array<Promise<unknown>>(count);
  const start = performance.now();
  for (let index = 0; index < count; index++) promises[index] = limit(body, index);
  await Promise.all(promises);
  return performance.now() - start;
}

async function runPQueue(count: number): Promise<number> {
  queue ??= new PQueue({ concurrency: CAP });
  const target = queue;
  const promises = new Array<Promise<unknown>>(count);
  const start = performance.now();
  for (let index = 0; index < count; index++) promises[index] = target.add(() => body(index));
  await Promise.all(promises);
  return performance.now() - start;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function rate(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)}M/s` : `${(perSecond / 1e3).toFixed(0)}k/s`;
}

type ContenderName = 'ours' | 'p-limit' | 'p-queue';

const runners: Record<ContenderName, (count: number) => Promise<number>> = {
  ours: runOurs,
  'p-limit': runPLimit,
  'p-queue': runPQueue,
};

/**
 * Child process: one contender (or the scaling pair), a warm-up, then timed
 * runs back to back. Each contender gets fresh processes, so no one's garbage
 * or JIT state is billed to another, and no forced `gc()` runs between the
 * timed runs (it throws away type feedback and skews what it measures).
 */
async function child(mode: string): Promise<void> {
  const samples: number[][] = [];
  if (mode === 'scaling') {
    await runOurs(TRIGGERS);
    await runOurs(2 * TRIGGERS);
    const single: number[] = [];
    const double: number[] = [];
    for (let run = 0; run < RUNS_PER_CHILD; run++) {
      single.push(await runOurs(TRIGGERS));
      double.push(await runOurs(2 * TRIGGERS));
    }
    samples.push(single, double);
  } else {
    const run = runners[mode as ContenderName];
    await run(TRIGGERS);
    await run(TRIGGERS);
    const times: number[] = [];
    const cpu: number[] = [];
    for (let index = 0; index < RUNS_PER_CHILD; index++) {
      const cpuBefore = process.cpuUsage();
      times.push(await run(TRIGGERS));
      const used = process.cpuUsage(cpuBefore);
      cpu.push((used.user + used.system) / 1000);
    }
    samples.push(times, cpu);
  }
  process.stdout.write(`${JSON.stringify(samples)}\n`);
}

/** In this process, contenders alternate sample by sample, with a forced full GC before each. */
async function measureWithForcedGc(names: ContenderName[]): Promise<Map<ContenderName, number[]>> {
  const times = new Map<ContenderName, number[]>(names.map((name) => [name, []]));
  for (const name of names) await runners[name](TRIGGERS);
  for (let round = 0; round < FORCED_GC_ROUNDS; round++) {
    for (let offset = 0; offset < names.length; offset++) {
      const name = names[(round + offset) % names.length]!;
      gc();
      times.get(name)!.push(await runners[name](TRIGGERS));
    }
  }
  return times;
}

function runChild(mode: string): number[][] {
  const result = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, '--child', mode], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.status !== 0) {
    throw new Error(`bench child "${mode}" failed: ${(result.stderr || result.error?.message || '').trim().split('\n')[0]}`);
  }
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as number[][];
}

/**
 * Cooldown precision under load. The load's body awaits one turn of the event
 * loop (as real I/O does): a body that never leaves the microtask queue would
 * hold back every timer in the process, whatever the library.
 */
async function measureCooldownGaps(): Promise<{ gaps: number[]; gapsUnderLoad: number; loadMs: number; cooledMs: number }> {
  const manager = new TaskManager();
  manager.addConstraintGroup(
    new TaskConstraintGroup({ name: 'global-cap', maxConcurrent: CAP, constraintKeyForExecution: () => 'all' }),
  );
  manager.addConstraintGroup(
    new TaskConstraintGroup({
      name: 'per-key',
      maxConcurrent: 1,
      constraintKeyForExecution: (task, input?: number) => `${task.name}:${(input ?? 0) % KEYS}`,
    }),
  );
  manager.addConstraintGroup(
    new TaskConstraintGroup({
      name: 'cooldown',
      maxConcurrent: 1,
      cooldownMs: COOLDOWN_MS,
      constraintKeyForExecution: (task, input?: number) =>
        task.name === 'cooled' ? `c${(input ?? 0) % COOLDOWN_KEYS}` : null,
    }),
  );
  const ends = new Map<number, number>();
  const gaps: number[] = [];
  let gapsUnderLoad = 0;
  let loadDone = false;
  const cooled = new Task({
    name: 'cooled',
    taskFunction: async (input: number) => {
      const key = input % COOLDOWN_KEYS;
      const start = performance.now();
      const end = ends.get(key);
      if (end !== undefined) {
        gaps.push(start - end);
        if (!loadDone) gapsUnderLoad++;
      }
      await nextTurn();
      ends.set(key, performance.now());
    },
  });
  const load = new Task({ name: 'load', taskFunction: () => nextTurn() });
  const start = performance.now();
  const cooledPromises: Promise<unknown>[] = [];
  for (let index = 0; index < COOLDOWN_KEYS * COOLDOWN_RUNS_PER_KEY; index++) {
    cooledPromises.push(manager.triggerTaskConstrained(cooled, index));
  }
  const loadPromises = new Array<Promise<unknown>>(TRIGGERS);
  for (let index = 0; index < TRIGGERS; index++) loadPromises[index] = manager.triggerTaskConstrained(load, index);
  let cooledMs = 0;
  let loadMs = 0;
  await Promise.all([
    Promise.all(cooledPromises).then(() => (cooledMs = performance.now() - start)),
    Promise.all(loadPromises).then(() => {
      loadDone = true;
      loadMs = performance.now() - start;
    }),
  ]);
  await manager.stop();
  return { gaps, gapsUnderLoad, loadMs, cooledMs };
}

async function main(): Promise<void> {
  const names: ContenderName[] = ['ours', 'p-limit', 'p-queue'];
  const labels: Record<ContenderName, string> = {
    ours: 'ours: `triggerTaskConstrained`, global cap 10 + per-key mutex (1,000 keys)',
    'p-limit': '`p-limit(10)` (cap only)',
    'p-queue': '`p-queue` concurrency 10 (cap only)',
  };
  const times = new Map<ContenderName, number[]>(names.map((name) => [name, []]));
  const cpuTimes = new Map<ContenderName, number[]>(names.map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order so no contender always runs right after the same one.
    for (let offset = 0; offset < names.length; offset++) {
      const name = names[(round + offset) % names.length]!;
      const [wall, cpu] = runChild(name) as [number[], number[]];
      times.get(name)!.push(...wall);
      cpuTimes.get(name)!.push(...cpu);
    }
  }
  const medianMs = (name: ContenderName) => median(times.get(name)!);
  const medianCpuMs = (name: ContenderName) => median(cpuTimes.get(name)!);
  const [ours, limit, queue] = names.map((name) => TRIGGERS / (medianMs(name) / 1000)) as [number, number, number];
  const forced = await measureWithForcedGc(names);
  const forcedMs = (name: ContenderName) => median(forced.get(name)!);

  const singleSamples: number[] = [];
  const doubleSamples: number[] = [];
  for (let round = 0; round < SCALING_CHILDREN; round++) {
    const [single, double] = runChild('scaling') as [number[], number[]];
    singleSamples.push(...single);
    doubleSamples.push(...double);
  }
  const singleMs = median(singleSamples);
  const doubleMs = median(doubleSamples);

  gc();
  // Three repetitions: one stretch of CPU contention from another process should not decide the verdict alone.
  const repetitions: Array<Awaited<ReturnType<typeof measureCooldownGaps>> & { p99: number }> = [];
  for (let repetition = 0; repetition < COOLDOWN_REPETITIONS; repetition++) {
    gc();
    const measured = await measureCooldownGaps();
    repetitions.push({ ...measured, p99: percentile(measured.gaps, 99) });
  }
  const gaps = repetitions.flatMap((repetition) => repetition.gaps);
  const gapsUnderLoad = repetitions.reduce((sum, repetition) => sum + repetition.gapsUnderLoad, 0);
  const loadMs = median(repetitions.map((repetition) => repetition.loadMs));
  const cooledMs = median(repetitions.map((repetition) => repetition.cooledMs));
  const p50 = percentile(gaps, 50);
  const p99 = median(repetitions.map((repetition) => repetition.p99));
  const max = Math.max(...gaps);
  const min = Math.min(...gaps);

  const limitRatio = ours / limit;
  const queueRatio = ours / queue;
  const scaleRatio = doubleMs / singleMs;
  const mark = (pass: boolean) => (pass ? 'PASS' : 'FAIL');

  console.log('## Constraints\n');
  console.log(
    `${TRIGGERS.toLocaleString('en-US')} triggers, body \`await null\`, cap ${CAP}; ours also holds a per-key mutex ` +
      `over ${KEYS.toLocaleString('en-US')} keys. Each contender runs in ${ROUNDS} fresh child processes (rotating order), ${RUNS_PER_CHILD} timed runs ` +
      `back to back after two warm-ups, as a long-running process would (no forced GC); medians of ` +
      `${ROUNDS * RUNS_PER_CHILD} runs. The goals use these. The last column is a second method for comparison: all ` +
      `contenders in one process, alternating, \`gc()\` before each run (median of ${FORCED_GC_ROUNDS}).\n`,
  );
  console.log('| contender | median time | throughput | median CPU time | with a forced GC before each run |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const name of names) {
    const ms = medianMs(name);
    console.log(
      `| ${labels[name]} | ${ms.toFixed(0)} ms | ${rate(TRIGGERS / (ms / 1000))} | ${medianCpuMs(name).toFixed(0)} ms | ` +
        `${forcedMs(name).toFixed(0)} ms |`,
    );
  }
  console.log(
    `| ours, 100,000 triggers (scaling children) | ${singleMs.toFixed(0)} ms | ${rate(TRIGGERS / (singleMs / 1000))} | | |`,
  );
  console.log(
    `| ours, 200,000 triggers (scaling children) | ${doubleMs.toFixed(0)} ms | ${rate((2 * TRIGGERS) / (doubleMs / 1000))} | | |`,
  );
  console.log(
    `\nCooldown precision: ${COOLDOWN_KEYS} keys × ${COOLDOWN_RUNS_PER_KEY} runs with \`cooldownMs: ${COOLDOWN_MS}\` ` +
      `(plus the global cap and the per-key mutex) while ${TRIGGERS.toLocaleString('en-US')} load triggers run ` +
      `through the same manager (load body: one \`setImmediate\` turn; median load done after ${loadMs.toFixed(0)} ms, ` +
      `cooled runs after ${cooledMs.toFixed(0)} ms). Gap = start of a run − end of the previous run of its key. ` +
      `${COOLDOWN_REPETITIONS} repetitions, ${gaps.length} gaps (${gapsUnderLoad} while the load ran): min ${min.toFixed(1)} ms, ` +
      `p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms; p99 per repetition ` +
      `${repetitions.map((repetition) => `${repetition.p99.toFixed(1)} ms`).join(', ')} (median ${p99.toFixed(1)} ms).\n`,
  );
  console.log('| goal | measured | result |');
  console.log('| --- | ---: | --- |');
  console.log(`| throughput ≥ 1× \`p-limit(10)\` | ${limitRatio.toFixed(2)}× | ${mark(limitRatio >= 1)} |`);
  console.log(`| throughput ≥ 3× \`p-queue\` (concurrency 10) | ${queueRatio.toFixed(2)}× | ${mark(queueRatio >= 3)} |`);
  const forcedLimit = forcedMs('p-limit') / forcedMs('ours');
  const forcedQueue = forcedMs('p-queue') / forcedMs('ours');
  console.log(
    `| same two ratios with a forced GC before each run | ${forcedLimit.toFixed(2)}× and ${forcedQueue.toFixed(2)}× | ` +
      `${mark(forcedLimit >= 1)}, ${mark(forcedQueue >= 3)} |`,
  );
  console.log(`| time(200,000) ≤ 2.3× time(100,000) | ${scaleRatio.toFixed(2)}× | ${mark(scaleRatio <= 2.3)} |`);
  console.log(
    `| cooldown p99 gap (median of the repetitions) < ${COOLDOWN_MS} + 15 ms (and no gap under ${COOLDOWN_MS} − 1 ms: the cooldown reads whole-ms \`Date.now()\`) | p99 ${p99.toFixed(1)} ms, min ${min.toFixed(1)} ms | ${mark(p99 < COOLDOWN_MS + 15 && min >= COOLDOWN_MS - 1)} |`,
  );
  console.log('');
}

const childIndex = process.argv.indexOf('--child');
if (childIndex === -1) await main();
else await child(process.argv[childIndex + 1]!);
