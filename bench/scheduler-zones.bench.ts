/**
 * `nextRuns(expression, 20)` of `@taskbuffer/scheduler` on a cold time zone,
 * side by side with croner.
 *
 * In a fresh process, each IANA zone `Intl` knows is used for the first time
 * by one timed call (expressions rotate; the first, `0 0 29 2 *`, spans 80
 * years), then a second call on the same zone with an earlier `from` than
 * anything asked before. A warm-up on three other zones comes first, so that
 * the code is compiled, as in a process that has been running for a while.
 * croner keeps nothing between calls, so each of its calls is cold; it is
 * timed on every seventh zone (its calls take up to hundreds of ms).
 *
 * Each implementation runs in PROCESSES child processes (this file with an
 * argument), interleaved. Per call: wall time, and the process's CPU time
 * (all threads), which other processes taking the cores do not inflate.
 * Prints a markdown section and the goal with PASS/FAIL.
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CronScheduler } from '@taskbuffer/scheduler';
import { Cron } from 'croner';

const EXPRESSIONS = ['0 0 29 2 *', '30 2 * * *', '*/15 * * * *', '0 9 * * MON-FRI', '0 0 L * *', '30 1 * * SUN', '0 0 * 2 0#5'];
const COUNT = 20;
const FROM = Date.UTC(2026, 0, 1);
const EARLIER_FROM = Date.UTC(1990, 0, 1);
const CRONER_STRIDE = 7;
const PROCESSES = 3;
const WARM_UP_ZONES = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe'];

const gc: () => void = (globalThis as { gc?: () => void }).gc ?? (() => {});

type Implementation = 'ours' | 'croner';

interface Sample {
  expression: number;
  wallMs: number;
  cpuMs: number;
  earlierWallMs: number;
}

function child(implementation: Implementation): Sample[] {
  const zones = Intl.supportedValuesOf('timeZone').filter((zone) => !WARM_UP_ZONES.includes(zone));
  const scheduler = new CronScheduler({ timezone: 'UTC' });
  const run = (expression: string, timezone: string, from: number): Date[] =>
    implementation === 'ours'
      ? scheduler.nextRuns(expression, COUNT, { from, timezone })
      : new Cron(expression, { timezone, paused: true }).nextRuns(COUNT, new Date(from));
  for (const timezone of WARM_UP_ZONES) {
    for (const expression of EXPRESSIONS) {
      run(expression, timezone, FROM);
      run(expression, timezone, EARLIER_FROM);
    }
  }
  gc();
  const samples: Sample[] = [];
  const stride = implementation === 'ours' ? 1 : CRONER_STRIDE;
  for (let index = 0; index < zones.length; index += stride) {
    const expression = (index / stride) % EXPRESSIONS.length;
    const timezone = zones[index]!;
    const cpuBefore = process.cpuUsage();
    let start = performance.now();
    const runs = run(EXPRESSIONS[expression]!, timezone, FROM);
    const wallMs = performance.now() - start;
    const cpu = process.cpuUsage(cpuBefore);
    if (runs.length !== COUNT) throw new Error(`${EXPRESSIONS[expression]} in ${timezone}: ${runs.length} runs`);
    start = performance.now();
    run(EXPRESSIONS[expression]!, timezone, EARLIER_FROM);
    const earlierWallMs = performance.now() - start;
    samples.push({ expression, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, earlierWallMs });
  }
  return samples;
}

function runChild(implementation: Implementation): Sample[] {
  const result = spawnSync(
    process.execPath,
    ['--expose-gc', '--conditions=source', '--import', 'tsx', fileURLToPath(import.meta.url), 'child', implementation],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (result.status !== 0) throw new Error(`child ${implementation} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Sample[];
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

const ms = (value: number) => value.toFixed(value < 10 ? 2 : 1);
const verdict = (pass: boolean) => (pass ? 'PASS' : 'FAIL');

function main(): void {
  const [mode, implementation] = process.argv.slice(2);
  if (mode === 'child') {
    console.log(JSON.stringify(child(implementation as Implementation)));
    return;
  }
  const loadBefore = loadavg()[0]!;
  const samples: Record<Implementation, Sample[]> = { ours: [], croner: [] };
  for (let round = 0; round < PROCESSES; round++) {
    for (const name of ['ours', 'croner'] as const) samples[name].push(...runChild(name));
  }
  const row = (label: string, pick: (sample: Sample) => number, filter: (sample: Sample) => boolean = () => true) => {
    const cells = (['ours', 'croner'] as const).flatMap((name) => {
      const values = samples[name].filter(filter).map(pick);
      return [ms(percentile(values, 0.5)), ms(percentile(values, 0.99)), ms(Math.max(...values))];
    });
    return `| ${label} | ${cells.join(' | ')} |`;
  };
  const leap = (sample: Sample) => sample.expression === 0;
  const ours = samples.ours;
  const wallP99 = percentile(ours.map((sample) => sample.wallMs), 0.99);
  const cpuP99 = percentile(ours.map((sample) => sample.cpuMs), 0.99);
  const earlierP99 = percentile(ours.map((sample) => sample.earlierWallMs), 0.99);
  const leapP99 = percentile(ours.filter(leap).map((sample) => sample.wallMs), 0.99);
  const lines = [
    '## Scheduler: `nextRuns` on a cold time zone (`@taskbuffer/scheduler` vs croner 11)',
    '',
    `Node ${process.version}, ${cpus().length} cores, load average ${loadBefore.toFixed(1)} before and ${loadavg()[0]!.toFixed(1)} after. ` +
      `\`nextRuns(expression, ${COUNT})\` from 2026-01-01, each of the ${ours.length / PROCESSES} zones \`Intl\` knows used for the first time by one call, ` +
      `in ${PROCESSES} fresh processes per implementation after a warm-up on 3 other zones; expressions rotate over ` +
      `${EXPRESSIONS.map((expression) => `\`${expression}\``).join(', ')}. Then a second call on the same zone from 1990-01-01, earlier than anything asked before. ` +
      `croner keeps nothing between calls; it is timed on every ${CRONER_STRIDE}th zone. ` +
      'Milliseconds per call: wall time, and the CPU time of the process (all threads), which other processes taking the cores do not inflate.',
    '',
    '| `nextRuns(expression, 20)` | taskbuffer p50 | taskbuffer p99 | taskbuffer max | croner p50 | croner p99 | croner max |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    row(`first call on a zone, wall (${ours.length} / ${samples.croner.length} calls)`, (sample) => sample.wallMs),
    row('first call on a zone, CPU time', (sample) => sample.cpuMs),
    row('first call on a zone, `0 0 29 2 *` only, wall', (sample) => sample.wallMs, leap),
    row('second call, earlier `from`, wall', (sample) => sample.earlierWallMs),
    '',
    '| goal | measured | result |',
    '| --- | --- | --- |',
    `| \`nextRuns(expression, 20)\` on a cold zone: p99 < 5 ms | wall ${ms(wallP99)} ms (\`0 0 29 2 *\`: ${ms(leapP99)} ms; earlier \`from\`: ${ms(earlierP99)} ms); CPU time ${ms(cpuP99)} ms | ${verdict(wallP99 < 5 && earlierP99 < 5)} |`,
  ];
  console.log(lines.join('\n'));
}

main();
