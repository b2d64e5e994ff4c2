/**
 * Core trigger throughput, side by side with the published reference
 * (`@push.rocks/taskbuffer@3.5.0`) and a raw `await fn()` floor.
 *
 * - sequential `task.trigger()` of a no-op task, all three in this process,
 *   interleaved round by round so that drift hits every contender alike;
 * - 100k triggers in flight at once: throughput and peak RSS, each
 *   implementation in its own child process (RSS is per process), a few
 *   processes per implementation, interleaved. The child is this script
 *   bundled with esbuild and run by plain `node`, so that no TypeScript
 *   loader adds to its memory;
 * - `manager.triggerTaskByName()`: ours with a `taskSubject` subscriber
 *   against the reference without one (it has no event stream).
 *
 * Prints a markdown section and the goal ratios with PASS/FAIL.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Task, TaskManager, type ITaskEvent } from '@taskbuffer/core';
import {
  REFERENCE_PACKAGE,
  REFERENCE_VERSION,
  type ReferenceModule,
  loadReference,
  referenceBundlePath,
} from './fetch-reference.js';

const CONCURRENT = 100_000;
/** Rounds recorded per sequential case (after one warm-up round); the median is reported. */
const ROUNDS = 7;
/** How long one sample of a sequential case runs. */
const SAMPLE_MS = 250;
/** Measured 100k runs per child (after one warm-up run). */
const CONCURRENT_RUNS = 5;
/** Child processes per implementation for the 100k case; the medians are reported. */
const CONCURRENT_PROCESSES = 3;

const gc: () => void = (globalThis as { gc?: () => void }).gc ?? (() => {});
const noop = async (): Promise<void> => {};

type Implementation = 'ours' | 'reference' | 'raw';

// ---------------------------------------------------------------------------
// Child process: one implementation, 100k triggers in flight at once
// ---------------------------------------------------------------------------

interface ConcurrentResult {
  implementation: Implementation;
  opsPerSecond: number;
  peakRssBytes: number;
  baselineRssBytes: number;
}

async function concurrentChild(implementation: Implementation, referencePath: string | undefined): Promise<void> {
  let trigger: () => Promise<unknown>;
  if (implementation === 'ours') {
    const task = new Task({ name: 'noop', taskFunction: noop });
    trigger = () => task.trigger();
  } else if (implementation === 'reference') {
    if (referencePath === undefined) throw new Error('no path to the reference bundle');
    const reference = (await import(pathToFileURL(referencePath).href)) as ReferenceModule;
    const task = new reference.Task({ name: 'noop', taskFunction: noop });
    trigger = () => task.trigger();
  } else {
    trigger = noop;
  }
  const runOnce = async (): Promise<number> => {
    const promises = new Array<Promise<unknown>>(CONCURRENT);
    const start = performance.now();
    for (let index = 0; index < CONCURRENT; index++) promises[index] = trigger();
    await Promise.all(promises);
    return performance.now() - start;
  };
  gc();
  const baselineRssBytes = process.memoryUsage().rss;
  await runOnce();
  const samples: number[] = [];
  for (let run = 0; run < CONCURRENT_RUNS; run++) {
    gc();
    samples.push(CONCURRENT / ((await runOnce()) / 1000));
  }
  const result: ConcurrentResult = {
    implementation,
    opsPerSecond: median(samples),
    // maxRSS is the high-water mark of the whole process, in kilobytes.
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    baselineRssBytes,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Bundles this script (with `@taskbuffer/core` from source) into a plain ESM file for child processes. */
async function bundleChild(directory: string): Promise<string> {
  const esbuild = await import('esbuild');
  const outfile = join(directory, 'core-bench-child.mjs');
  await esbuild.build({
    entryPoints: [fileURLToPath(import.meta.url)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['source'],
    external: ['esbuild'],
    logLevel: 'error',
  });
  return outfile;
}

function runConcurrentChild(childScript: string, implementation: Implementation): ConcurrentResult | { error: string } {
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', childScript, '--child', implementation, referenceBundlePath()],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (child.status !== 0) {
    return { error: (child.stderr || child.error?.message || `exit ${child.status}`).trim().split('\n')[0]! };
  }
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as ConcurrentResult;
  } catch {
    return { error: `unexpected output: ${line.slice(0, 200)}` };
  }
}

// ---------------------------------------------------------------------------
// Sequential cases, side by side in this process
// ---------------------------------------------------------------------------

interface Contender {
  label: string;
  run: () => Promise<unknown>;
  samples: number[];
}

/** Awaits `run` back to back for about `SAMPLE_MS`; returns calls per second. */
async function sample(run: () => Promise<unknown>): Promise<number> {
  gc();
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let index = 0; index < 1000; index++) await run();
    count += 1000;
    elapsed = performance.now() - start;
  } while (elapsed < SAMPLE_MS);
  return count / (elapsed / 1000);
}

async function measureSideBySide(contenders: Contender[]): Promise<void> {
  for (const contender of contenders) await sample(contender.run);
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order so no contender always runs right after the same one.
    for (let offset = 0; offset < contenders.length; offset++) {
      const contender = contenders[(round + offset) % contenders.length]!;
      contender.samples.push(await sample(contender.run));
    }
  }
}

// ---------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function rate(opsPerSecond: number | undefined): string {
  if (opsPerSecond === undefined) return 'n/a';
  if (opsPerSecond >= 1e6) return `${(opsPerSecond / 1e6).toFixed(2)}M/s`;
  return `${(opsPerSecond / 1e3).toFixed(0)}k/s`;
}

function megabytes(bytes: number | undefined): string {
  return bytes === undefined ? 'n/a' : `${(bytes / 2 ** 20).toFixed(0)} MB`;
}

function ratio(value: number | undefined): string {
  return value === undefined ? 'n/a' : `${value.toFixed(2)}×`;
}

function verdict(value: number | undefined, passes: (value: number) => boolean): string {
  if (value === undefined) return 'n/a (no reference)';
  return passes(value) ? 'PASS' : 'FAIL';
}

async function main(): Promise<void> {
  const reference = await loadReference();
  const referenceName = `${REFERENCE_PACKAGE}@${REFERENCE_VERSION}`;

  // Sequential no-op trigger.
  const ourTask = new Task({ name: 'noop', taskFunction: noop });
  const sequential: Contender[] = [
    { label: 'ours', run: () => ourTask.trigger(), samples: [] },
    { label: 'raw', run: noop, samples: [] },
  ];
  if (reference !== undefined) {
    const referenceTask = new reference.Task({ name: 'noop', taskFunction: noop });
    sequential.push({ label: 'reference', run: () => referenceTask.trigger(), samples: [] });
  }
  await measureSideBySide(sequential);

  // triggerTaskByName.
  let events = 0;
  const observedManager = new TaskManager();
  observedManager.addTask(new Task({ name: 'noop', taskFunction: noop }));
  const subscription = observedManager.taskSubject.subscribe((event: ITaskEvent) => {
    if (event.task.name === 'noop') events++;
  });
  const quietManager = new TaskManager();
  quietManager.addTask(new Task({ name: 'noop', taskFunction: noop }));
  let triggered = 0;
  const byName: Contender[] = [
    {
      label: 'ours, subscribed',
      run: () => {
        triggered++;
        return observedManager.triggerTaskByName('noop');
      },
      samples: [],
    },
    { label: 'ours', run: () => quietManager.triggerTaskByName('noop'), samples: [] },
  ];
  if (reference !== undefined) {
    const referenceManager = new reference.TaskManager();
    referenceManager.addTask(new reference.Task({ name: 'noop', taskFunction: noop }));
    byName.push({ label: 'reference', run: () => referenceManager.triggerTaskByName('noop'), samples: [] });
  }
  await measureSideBySide(byName);
  subscription.unsubscribe();
  // Each run emits `started` and `completed`: the subscriber must have seen both.
  if (events !== 2 * triggered) {
    throw new Error(`taskSubject saw ${events} events for ${triggered} triggers; expected ${2 * triggered}`);
  }

  // 100k in flight: child processes, interleaved by implementation.
  const implementations: Implementation[] = reference === undefined ? ['ours', 'raw'] : ['ours', 'reference', 'raw'];
  const childResults = new Map<Implementation, ConcurrentResult[]>(implementations.map((name) => [name, []]));
  const childDirectory = mkdtempSync(join(tmpdir(), 'taskbuffer-bench-'));
  try {
    const childScript = await bundleChild(childDirectory);
    for (let round = 0; round < CONCURRENT_PROCESSES; round++) {
      for (const implementation of implementations) {
        const result = runConcurrentChild(childScript, implementation);
        if ('error' in result) throw new Error(`the 100k-concurrent child for ${implementation} failed: ${result.error}`);
        childResults.get(implementation)!.push(result);
      }
    }
  } finally {
    rmSync(childDirectory, { recursive: true, force: true });
  }
  const concurrent = new Map<Implementation, ConcurrentResult>();
  for (const [implementation, results] of childResults) {
    concurrent.set(implementation, {
      implementation,
      opsPerSecond: median(results.map((result) => result.opsPerSecond)),
      peakRssBytes: median(results.map((result) => result.peakRssBytes)),
      baselineRssBytes: median(results.map((result) => result.baselineRssBytes)),
    });
  }

  const find = (contenders: Contender[], label: string) => {
    const contender = contenders.find((candidate) => candidate.label === label);
    return contender === undefined ? undefined : median(contender.samples);
  };
  const seqOurs = find(sequential, 'ours')!;
  const seqReference = find(sequential, 'reference');
  const seqRaw = find(sequential, 'raw')!;
  const byNameObserved = find(byName, 'ours, subscribed')!;
  const byNameQuiet = find(byName, 'ours')!;
  const byNameReference = find(byName, 'reference');
  const ours100k = concurrent.get('ours')!;
  const reference100k = concurrent.get('reference');
  const raw100k = concurrent.get('raw')!;
  const over = (ours: number, theirs: number | undefined) => (theirs === undefined ? undefined : ours / theirs);

  const sequentialRatio = over(seqOurs, seqReference);
  const concurrentRatio = over(ours100k.opsPerSecond, reference100k?.opsPerSecond);
  const rssRatio = over(ours100k.peakRssBytes, reference100k?.peakRssBytes);
  const byNameRatio = over(byNameObserved, byNameReference);

  const lines = [
    `## Core: trigger throughput (ours vs ${referenceName})`,
    '',
    `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}. ` +
      `No-op task (\`async () => {}\`). Sequential cases: median of ${ROUNDS} samples of ${SAMPLE_MS} ms, ` +
      `side by side in one process after a warm-up. 100k case: ${CONCURRENT_PROCESSES} processes per implementation ` +
      `(plain \`node\`, no TypeScript loader), each reporting the median of ${CONCURRENT_RUNS} runs after a warm-up ` +
      'and its peak RSS (high-water mark); the table shows the medians over the processes.',
    '',
    `| case | ours | ${referenceName} | raw \`await fn()\` | ours / reference |`,
    '| --- | ---: | ---: | ---: | ---: |',
    `| sequential \`await task.trigger()\` | ${rate(seqOurs)} | ${rate(seqReference)} | ${rate(seqRaw)} | ${ratio(sequentialRatio)} |`,
    `| 100k concurrent triggers, throughput | ${rate(ours100k.opsPerSecond)} | ${rate(reference100k?.opsPerSecond)} | ${rate(raw100k.opsPerSecond)} | ${ratio(concurrentRatio)} |`,
    `| 100k concurrent triggers, peak RSS | ${megabytes(ours100k.peakRssBytes)} | ${megabytes(reference100k?.peakRssBytes)} | ${megabytes(raw100k.peakRssBytes)} | ${ratio(rssRatio)} |`,
    `| 100k concurrent triggers, RSS before the runs | ${megabytes(ours100k.baselineRssBytes)} | ${megabytes(reference100k?.baselineRssBytes)} | ${megabytes(raw100k.baselineRssBytes)} | |`,
    `| \`await manager.triggerTaskByName()\`, ours with a \`taskSubject\` subscriber | ${rate(byNameObserved)} | ${rate(byNameReference)} | | ${ratio(byNameRatio)} |`,
    `| \`await manager.triggerTaskByName()\`, no subscriber | ${rate(byNameQuiet)} | ${rate(byNameReference)} | | ${ratio(over(byNameQuiet, byNameReference))} |`,
    '',
    '| goal | target | measured | result |',
    '| --- | ---: | ---: | :---: |',
    `| sequential no-op \`task.trigger()\` vs reference | ≥ 5× | ${ratio(sequentialRatio)} | ${verdict(sequentialRatio, (value) => value >= 5)} |`,
    `| 100k concurrent triggers, throughput vs reference | ≥ 10× | ${ratio(concurrentRatio)} | ${verdict(concurrentRatio, (value) => value >= 10)} |`,
    `| 100k concurrent triggers, peak RSS vs reference | ≤ 0.33× | ${ratio(rssRatio)} | ${verdict(rssRatio, (value) => value <= 1 / 3)} |`,
    `| \`triggerTaskByName\` with a subscriber vs reference without | ≥ 4× | ${ratio(byNameRatio)} | ${verdict(byNameRatio, (value) => value >= 4)} |`,
    '',
  ];
  console.log(lines.join('\n'));
}

const childIndex = process.argv.indexOf('--child');
if (childIndex !== -1) {
  await concurrentChild(process.argv[childIndex + 1] as Implementation, process.argv[childIndex + 2]);
} else {
  await main();
}
