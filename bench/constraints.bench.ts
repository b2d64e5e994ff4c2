/**
 * Constraint engine throughput and cooldown precision, side by side with
 * `p-limit` and `p-queue` (which enforce only a concurrency cap).
 *
 * - 100,000 triggers of one task through `manager.triggerTaskConstrained(task, i)`
 *   with two groups: a global cap of 10 and a per-key mutex over 1,000 keys
 *   (`k${i % 1000}`). The task body awaits once. Peers run the same 100,000
 *   bodies under a cap of 10. Contenders alternate round by round; medians.
 * - the same scenario with 200,000 triggers: the time must grow linearly.
 * - cooldown precision: 100 keys with `cooldownMs: 50` (a third group), each
 *   triggered several times, while the 100,000-trigger load runs through the
 *   same manager; the gap between the end of one run of a key and the start of
 *   the next is measured.
 *
 * Prints a markdown section with the figures and the goals as PASS/FAIL.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Task, TaskManager } from '@taskbuffer/core';
import { TaskConstraintGroup } from '@taskbuffer/constraints';
import pLimit from 'p-limit';
import PQueue from 'p-queue';

const TRIGGERS = 100_000;
const KEYS = 1_000;
const CAP = 10;
const ROUNDS = 5;
const COOLDOWN_MS = 50;
const COOLDOWN_KEYS = 100;
const COOLDOWN_RUNS_PER_KEY = 12;

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

async function runOurs(count: number): Promise<number> {
  const { manager, task } = createManager();
  const promises = new Array<Promise<unknown>>(count);
  const start = performance.now();
  for (let index = 0; index < count; index++) promises[index] = manager.triggerTaskConstrained(task, index);
  await Promise.all(promises);
  const elapsed = performance.now() - start;
  await manager.stop();
  return elapsed;
}

async function runPLimit(count: number): Promise<number> {
  const limit = pLimit(CAP);
  const promises = new Array<Promise<unknown>>(count);
  const start = performance.now();
  for (let index = 0; index < count; index++) promises[index] = limit(body, index);
  await Promise.all(promises);
  return performance.now() - start;
}

async function runPQueue(count: number): Promise<number> {
  const queue = new PQueue({ concurrency: CAP });
  const promises = new Array<Promise<unknown>>(count);
  const start = performance.now();
  for (let index = 0; index < count; index++) promises[index] = queue.add(() => body(index));
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

interface Contender {
  label: string;
  run: (count: number) => Promise<number>;
  samples: number[];
}

async function measure(contenders: Contender[], count: number): Promise<void> {
  for (const contender of contenders) {
    gc();
    await contender.run(count);
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (let offset = 0; offset < contenders.length; offset++) {
      const contender = contenders[(round + offset) % contenders.length]!;
      gc();
      contender.samples.push(await contender.run(count));
    }
  }
}

/**
 * Cooldown precision under load. The load's body awaits one turn of the event
 * loop (as real I/O does): a body that never leaves the microtask queue would
 * hold back every timer in the process, whatever the library.
 */
async function measureCooldownGaps(): Promise<{ gaps: number[]; loadMs: number; cooledMs: number }> {
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
  const cooled = new Task({
    name: 'cooled',
    taskFunction: async (input: number) => {
      const key = input % COOLDOWN_KEYS;
      const start = performance.now();
      const end = ends.get(key);
      if (end !== undefined) gaps.push(start - end);
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
    Promise.all(loadPromises).then(() => (loadMs = performance.now() - start)),
  ]);
  await manager.stop();
  return { gaps, loadMs, cooledMs };
}

async function main(): Promise<void> {
  const contenders: Contender[] = [
    { label: 'ours: `triggerTaskConstrained`, global cap 10 + per-key mutex (1,000 keys)', run: runOurs, samples: [] },
    { label: '`p-limit(10)` (cap only)', run: runPLimit, samples: [] },
    { label: '`p-queue` concurrency 10 (cap only)', run: runPQueue, samples: [] },
  ];
  await measure(contenders, TRIGGERS);
  const [ours, limit, queue] = contenders.map((contender) => TRIGGERS / (median(contender.samples) / 1000)) as [
    number,
    number,
    number,
  ];

  const double: Contender = { label: 'ours, 200,000 triggers', run: runOurs, samples: [] };
  const single: Contender = { label: 'ours, 100,000 triggers', run: runOurs, samples: [] };
  const scaling = [single, double];
  for (const contender of scaling) await contender.run(contender === double ? 2 * TRIGGERS : TRIGGERS);
  for (let round = 0; round < ROUNDS; round++) {
    gc();
    single.samples.push(await runOurs(TRIGGERS));
    gc();
    double.samples.push(await runOurs(2 * TRIGGERS));
  }
  const singleMs = median(single.samples);
  const doubleMs = median(double.samples);

  gc();
  const { gaps, loadMs, cooledMs } = await measureCooldownGaps();
  const p50 = percentile(gaps, 50);
  const p99 = percentile(gaps, 99);
  const max = Math.max(...gaps);
  const min = Math.min(...gaps);

  const limitRatio = ours / limit;
  const queueRatio = ours / queue;
  const scaleRatio = doubleMs / singleMs;
  const mark = (pass: boolean) => (pass ? 'PASS' : 'FAIL');

  console.log('## Constraints\n');
  console.log(
    `${TRIGGERS.toLocaleString('en-US')} triggers, body \`await null\`, cap ${CAP}; ours also holds a per-key mutex ` +
      `over ${KEYS.toLocaleString('en-US')} keys. Median of ${ROUNDS} alternating rounds after a warm-up.\n`,
  );
  console.log('| contender | median time | throughput |');
  console.log('| --- | ---: | ---: |');
  for (const contender of contenders) {
    const ms = median(contender.samples);
    console.log(`| ${contender.label} | ${ms.toFixed(0)} ms | ${rate(TRIGGERS / (ms / 1000))} |`);
  }
  console.log(`| ours, 100,000 triggers (scaling run) | ${singleMs.toFixed(0)} ms | ${rate(TRIGGERS / (singleMs / 1000))} |`);
  console.log(
    `| ours, 200,000 triggers (scaling run) | ${doubleMs.toFixed(0)} ms | ${rate((2 * TRIGGERS) / (doubleMs / 1000))} |`,
  );
  console.log(
    `\nCooldown precision: ${COOLDOWN_KEYS} keys × ${COOLDOWN_RUNS_PER_KEY} runs with \`cooldownMs: ${COOLDOWN_MS}\` ` +
      `(plus the global cap and the per-key mutex) while ${TRIGGERS.toLocaleString('en-US')} load triggers run ` +
      `through the same manager (load body: one \`setImmediate\` turn; load done after ${loadMs.toFixed(0)} ms, ` +
      `cooled runs after ${cooledMs.toFixed(0)} ms). Gap = start of a run − end of the previous run of its key, ` +
      `${gaps.length} gaps: min ${min.toFixed(1)} ms, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms.\n`,
  );
  console.log('| goal | measured | result |');
  console.log('| --- | ---: | --- |');
  console.log(`| throughput ≥ 1× \`p-limit(10)\` | ${limitRatio.toFixed(2)}× | ${mark(limitRatio >= 1)} |`);
  console.log(`| throughput ≥ 3× \`p-queue\` (concurrency 10) | ${queueRatio.toFixed(2)}× | ${mark(queueRatio >= 3)} |`);
  console.log(`| time(200,000) ≤ 2.3× time(100,000) | ${scaleRatio.toFixed(2)}× | ${mark(scaleRatio <= 2.3)} |`);
  console.log(
    `| cooldown p99 gap < ${COOLDOWN_MS} + 15 ms, and no gap < ${COOLDOWN_MS} ms | p99 ${p99.toFixed(1)} ms, min ${min.toFixed(1)} ms | ${mark(p99 < COOLDOWN_MS + 15 && min >= COOLDOWN_MS - 1)} |`,
  );
  console.log('');
}

await main();
