/**
 * The multi-process chaos run: N worker processes (chaos-worker.ts) schedule
 * an every-second and an every-3-seconds task through a RedisCoordinator,
 * talking to a private redis-server (AOF, fsync always, with a replica) through
 * a TCP proxy, while faults are injected one after another. The failover fault
 * promotes the replica the way Sentinel does (writes paused on the primary until
 * the replica caught up), moves the proxy's address to it and demotes the old
 * primary, whose open connections then answer READONLY. Every run is reported with the
 * tick it was granted; the analysis counts, per expected tick, how many
 * workers ran it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createClient } from 'redis';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerMessage } from './chaos-worker.js';
import { RedisServer } from './redis-server.js';
import { TcpProxy } from './tcp-proxy.js';

const here = dirname(fileURLToPath(import.meta.url));

export type FaultKind =
  | 'redis-restart'
  | 'redis-kill-restart'
  | 'connection-reset'
  | 'blackhole-3s'
  | 'worker-pause-3s'
  | 'worker-kill'
  | 'failover';

export interface FaultRecord {
  kind: FaultKind;
  /** When the fault began, epoch ms. */
  start: number;
  /** When it was over (Redis answering again, the route back, the worker resumed), epoch ms. */
  end: number;
  /** Whether the fault is on the Redis side (so recovery after it is measured). */
  redisSide: boolean;
}

export interface ChaosOptions {
  /** How long the whole run lasts, roughly, in seconds (at least 56: one cycle of every fault). */
  seconds: number;
  workers?: number;
  /** Receives progress lines. */
  log?: (line: string) => void;
}

export interface TickRecord {
  task: string;
  tick: number;
  runs: { worker: string; fence: number; startedAt: number }[];
  /** Why workers skipped it (`worker: reason`). */
  skips: string[];
  inFaultWindow: boolean;
}

export interface ChaosReport {
  seconds: number;
  workers: number;
  faults: FaultRecord[];
  ticks: TickRecord[];
  expectedTicks: number;
  /** Ticks run more than once. */
  duplicates: TickRecord[];
  missedInside: TickRecord[];
  missedOutside: TickRecord[];
  /** Runs whose worker had no granted claim for them (must be none). */
  unclaimedRuns: number;
  /** Ticks whose fencing number did not grow with the tick (must be none). */
  fenceRegressions: number;
  /** Per Redis-side fault: ms from its end to the first run of a tick scheduled after it began. */
  recoveries: { kind: FaultKind; ms: number }[];
  /** Per Redis-side fault: ms from its end until the last worker logged that Redis is available again. */
  reconnects: { kind: FaultKind; ms: number }[];
  /** Outage warnings each worker logged. */
  warningsPerWorker: Record<string, number>;
  /** Every outage log line, in order. */
  logs: { worker: string; level: 'warn' | 'info'; message: string; at: number }[];
}

/** Ticks this long before a fault began may have been granted to a worker that then lost the run. */
const WINDOW_BEFORE = 1000;
/** The recovery allowance after a fault ends (the recovery goal). */
const WINDOW_AFTER = 2000;
const FAULT_SPACING = 7000;
const TASKS = { 'every-second': 1000, 'every-3s': 3000 } as const;
const FAULTS_IN_ORDER: FaultKind[] = [
  'redis-restart',
  'redis-kill-restart',
  'connection-reset',
  'blackhole-3s',
  'worker-pause-3s',
  'worker-kill',
  'failover',
];
/** Where in its second each fault lands, ms after the whole second. */
const FAULT_OFFSET: Record<FaultKind, number> = {
  'redis-restart': 950,
  'redis-kill-restart': 2,
  'connection-reset': 1,
  'blackhole-3s': 500,
  'worker-pause-3s': 990,
  'worker-kill': 5,
  failover: 300,
};

/** The primary the proxy points at, and its replica; a failover swaps them. */
interface RedisPair {
  primary: RedisServer;
  replica: RedisServer;
}

function createAdmin(server: RedisServer) {
  return createClient({ url: server.url });
}

async function admin(server: RedisServer): Promise<ReturnType<typeof createAdmin>> {
  const client = createAdmin(server);
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

function replicationField(info: string, field: string): number {
  const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(info);
  return match === null ? -1 : Number(match[1]);
}

/** Makes `replica` follow `primary` and waits until it is in sync. */
async function follow(replica: RedisServer, primary: RedisServer): Promise<void> {
  const client = await admin(replica);
  try {
    await client.sendCommand(['REPLICAOF', '127.0.0.1', String(primary.port)]);
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(20)) {
      if (String(await client.sendCommand(['INFO', 'replication'])).includes('master_link_status:up')) return;
    }
    throw new Error(`replica on port ${replica.port} did not sync with port ${primary.port}`);
  } finally {
    client.destroy();
  }
}

/**
 * A failover without lost writes, as Sentinel does it: pause writes on the
 * primary, wait for the replica to have every acknowledged write, promote it,
 * move the address, demote the old primary, let the paused clients go (they
 * meet READONLY and must dial again).
 */
async function failover(pair: RedisPair, proxy: TcpProxy): Promise<void> {
  const { primary, replica } = pair;
  const [toPrimary, toReplica] = await Promise.all([admin(primary), admin(replica)]);
  try {
    // Long enough for a loaded machine; lifted explicitly below.
    await toPrimary.sendCommand(['CLIENT', 'PAUSE', '30000', 'WRITE']);
    const target = replicationField(String(await toPrimary.sendCommand(['INFO', 'replication'])), 'master_repl_offset');
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(5)) {
      const info = String(await toReplica.sendCommand(['INFO', 'replication']));
      if (replicationField(info, 'slave_repl_offset') >= target) break;
    }
    await toReplica.sendCommand(['REPLICAOF', 'NO', 'ONE']);
    proxy.retarget(replica.port);
    await toPrimary.sendCommand(['REPLICAOF', '127.0.0.1', String(replica.port)]);
    await toPrimary.sendCommand(['CLIENT', 'UNPAUSE']);
  } finally {
    toPrimary.destroy();
    toReplica.destroy();
  }
  pair.primary = replica;
  pair.replica = primary;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Workers {
  readonly #url: string;
  readonly processes = new Map<string, ChildProcess>();
  readonly messages: WorkerMessage[] = [];
  #count = 0;

  constructor(url: string) {
    this.#url = url;
  }

  spawn(): Promise<string> {
    const id = `w${++this.#count}`;
    const child = fork(join(here, 'chaos-worker.ts'), [], {
      cwd: join(here, '..'),
      execArgv: ['--conditions=source', '--import', 'tsx'],
      env: { ...process.env, CHAOS_WORKER_ID: id, REDIS_URL: this.#url },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.processes.set(id, child);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker ${id} did not start within 90 s`)), 90_000);
      child.on('message', (message: WorkerMessage) => {
        this.messages.push(message);
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve(id);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        this.processes.delete(id);
        reject(new Error(`worker ${id} exited (${code ?? signal}) before it was ready`));
      });
    });
  }

  alive(): string[] {
    return [...this.processes.keys()];
  }

  signal(id: string, signal: NodeJS.Signals): void {
    this.processes.get(id)?.kill(signal);
  }

  async kill(id: string): Promise<void> {
    const child = this.processes.get(id);
    if (child === undefined) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.processes.delete(id);
  }

  /** Asks every worker to stop (SIGTERM), then kills what is left after 5 s. */
  async stopAll(): Promise<void> {
    const exits = [...this.processes.entries()].map(([id, child]) => {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      return exited.finally(() => {
        clearTimeout(timer);
        this.processes.delete(id);
      });
    });
    await Promise.all(exits);
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const workerCount = options.workers ?? 5;
  const seconds = Math.max(options.seconds, 56);
  const pair: RedisPair = {
    primary: await RedisServer.start({ appendOnly: true }),
    replica: await RedisServer.start({ appendOnly: true }),
  };
  await follow(pair.replica, pair.primary);
  const proxy = await TcpProxy.start(pair.primary.port);
  const workers = new Workers(proxy.url);
  const faults: FaultRecord[] = [];
  let windowStart = 0;
  let windowEnd = 0;
  try {
    await Promise.all(Array.from({ length: workerCount }, () => workers.spawn()));
    log(`${workerCount} workers ready`);
    // Start on a whole second, two seconds after every worker is ready.
    windowStart = Math.ceil((Date.now() + 2000) / 1000) * 1000;
    await sleep(windowStart - Date.now());
    const endAt = windowStart + seconds * 1000 - 4000;

    let index = 0;
    for (;;) {
      const kind = FAULTS_IN_ORDER[index % FAULTS_IN_ORDER.length]!;
      // Each fault lands at its own point of a second: just before a tick,
      // while a tick's claims are in flight, or between ticks.
      const at = windowStart + 3000 + index * FAULT_SPACING + FAULT_OFFSET[kind];
      if (at + FAULT_SPACING > endAt) break;
      index++;
      await sleep(Math.max(0, at - Date.now()));
      const fault = await inject(kind, pair, proxy, workers, workerCount);
      faults.push(fault);
      log(`${kind}: ${fault.end - fault.start} ms`);
    }
    await sleep(Math.max(0, endAt - Date.now()));
    windowEnd = endAt;
  } finally {
    await workers.stopAll();
    await proxy.close();
    await Promise.all([pair.primary.stop(), pair.replica.stop()]);
  }
  return analyse(workers.messages, faults, windowStart, windowEnd, seconds, workerCount);
}

async function inject(
  kind: FaultKind,
  pair: RedisPair,
  proxy: TcpProxy,
  workers: Workers,
  workerCount: number,
): Promise<FaultRecord> {
  const start = Date.now();
  const redis = pair.primary;
  switch (kind) {
    case 'failover':
      await failover(pair, proxy);
      return { kind, start, end: Date.now(), redisSide: true };
    case 'redis-restart':
      await redis.kill('SIGTERM');
      await redis.launch();
      return { kind, start, end: Date.now(), redisSide: true };
    case 'redis-kill-restart':
      await redis.kill('SIGKILL');
      await redis.launch();
      return { kind, start, end: Date.now(), redisSide: true };
    case 'connection-reset':
      proxy.reset();
      return { kind, start, end: Date.now(), redisSide: true };
    case 'blackhole-3s':
      await proxy.blackhole(3000);
      return { kind, start, end: Date.now(), redisSide: true };
    case 'worker-pause-3s': {
      const id = workers.alive()[0]!;
      workers.signal(id, 'SIGSTOP');
      await sleep(3000);
      workers.signal(id, 'SIGCONT');
      return { kind, start, end: Date.now(), redisSide: false };
    }
    case 'worker-kill': {
      const alive = workers.alive();
      await workers.kill(alive[alive.length - 1]!);
      const end = Date.now();
      // Keep the cluster at full size for the next cycle of a long run.
      if (workers.alive().length < workerCount) await workers.spawn();
      return { kind, start, end, redisSide: false };
    }
  }
}

export function analyse(
  messages: WorkerMessage[],
  faults: FaultRecord[],
  windowStart: number,
  windowEnd: number,
  seconds: number,
  workerCount: number,
): ChaosReport {
  const runs = messages.filter((message): message is Extract<WorkerMessage, { type: 'run' }> => message.type === 'run');
  const byTick = new Map<string, TickRecord['runs']>();
  let unclaimedRuns = 0;
  for (const run of runs) {
    if (run.tick === undefined) {
      unclaimedRuns++;
      continue;
    }
    const key = `${run.task}@${run.tick}`;
    const list = byTick.get(key) ?? [];
    list.push({ worker: run.worker, fence: run.fence, startedAt: run.startedAt });
    byTick.set(key, list);
  }
  const inFaultWindow = (tick: number) =>
    faults.some((fault) => tick >= fault.start - WINDOW_BEFORE && tick <= fault.end + WINDOW_AFTER);
  const ticks: TickRecord[] = [];
  for (const [task, period] of Object.entries(TASKS)) {
    // The last second is left out: workers are stopped at windowEnd.
    for (let tick = Math.ceil(windowStart / period) * period; tick < windowEnd - 1000; tick += period) {
      const skips = messages
        .filter((message) => message.type === 'skip' && message.task === task && message.tick === tick)
        .map((message) => `${message.worker}: ${(message as Extract<WorkerMessage, { type: 'skip' }>).reason}`);
      ticks.push({ task, tick, runs: byTick.get(`${task}@${tick}`) ?? [], skips, inFaultWindow: inFaultWindow(tick) });
    }
  }
  // Runs of ticks that are not ticks of the schedule would be a bug of their own.
  for (const [key, list] of byTick) {
    const [task, tick] = key.split('@') as [keyof typeof TASKS, string];
    if (Number(tick) % TASKS[task] !== 0) unclaimedRuns += list.length;
  }
  let fenceRegressions = 0;
  for (const task of Object.keys(TASKS)) {
    const granted = runs.filter((run) => run.task === task && run.tick !== undefined).sort((a, b) => a.tick! - b.tick!);
    for (let index = 1; index < granted.length; index++) {
      if (granted[index]!.fence <= granted[index - 1]!.fence) fenceRegressions++;
    }
  }
  // Recovery: from the moment the fault was over to the start of the first run
  // of a tick scheduled at or after the fault began (0 if one ran before the end).
  const recoveries = faults
    .filter((fault) => fault.redisSide)
    .map((fault) => {
      const first = runs
        .filter((run) => run.tick !== undefined && run.tick >= fault.start)
        .sort((a, b) => a.startedAt - b.startedAt)[0];
      return {
        kind: fault.kind,
        ms: first === undefined ? Number.POSITIVE_INFINITY : Math.max(0, first.startedAt - fault.end),
      };
    });
  const logs = messages.filter((message): message is Extract<WorkerMessage, { type: 'log' }> => message.type === 'log');
  const redisFaults = faults.filter((fault) => fault.redisSide);
  const reconnects = redisFaults.map((fault, index) => {
    const until = redisFaults[index + 1]?.start ?? Number.POSITIVE_INFINITY;
    const backs = logs.filter((line) => line.level === 'info' && line.at >= fault.start && line.at < until);
    return { kind: fault.kind, ms: Math.max(0, ...backs.map((line) => line.at - fault.end)) };
  });
  const warningsPerWorker: Record<string, number> = {};
  for (const message of messages) {
    if (message.type === 'log' && message.level === 'warn') {
      warningsPerWorker[message.worker] = (warningsPerWorker[message.worker] ?? 0) + 1;
    }
  }
  return {
    seconds,
    workers: workerCount,
    faults,
    ticks,
    expectedTicks: ticks.length,
    duplicates: ticks.filter((tick) => tick.runs.length > 1),
    missedInside: ticks.filter((tick) => tick.runs.length === 0 && tick.inFaultWindow),
    missedOutside: ticks.filter((tick) => tick.runs.length === 0 && !tick.inFaultWindow),
    unclaimedRuns,
    fenceRegressions,
    recoveries,
    reconnects,
    warningsPerWorker,
    logs,
  };
}

/** The report as a markdown section. */
export function formatReport(report: ChaosReport): string {
  const lines: string[] = [];
  const iso = (time: number) => new Date(time).toISOString().slice(11, 23);
  lines.push(
    `Chaos run: ${report.workers} worker processes, ${report.seconds} s, ${report.expectedTicks} expected ticks ` +
      `(every second + every 3 s), Redis with AOF (appendfsync always) behind a TCP proxy.`,
    '',
    '| fault | from | to | lasted | reconnected (slowest worker) | recovery: first tick run |',
    '| --- | --- | --- | ---: | ---: | ---: |',
  );
  let recoveryIndex = 0;
  for (const fault of report.faults) {
    const recovery = fault.redisSide ? report.recoveries[recoveryIndex]?.ms : undefined;
    const reconnect = fault.redisSide ? report.reconnects[recoveryIndex++]?.ms : undefined;
    const cell = (value: number | undefined) => (value === undefined ? '—' : `${value} ms`);
    lines.push(
      `| ${fault.kind} | ${iso(fault.start)} | ${iso(fault.end)} | ${fault.end - fault.start} ms | ${cell(reconnect)} | ${cell(recovery)} |`,
    );
  }
  const worstRecovery = Math.max(0, ...report.recoveries.map((recovery) => recovery.ms));
  lines.push(
    '',
    '| figure | measured | goal |',
    '| --- | ---: | --- |',
    `| ticks run twice or more | ${report.duplicates.length} | 0 |`,
    `| ticks missed outside fault windows | ${report.missedOutside.length} | 0 |`,
    `| ticks missed inside fault windows | ${report.missedInside.length} | (reported) |`,
    `| runs without a granted claim | ${report.unclaimedRuns} | 0 |`,
    `| fencing numbers not growing with the tick | ${report.fenceRegressions} | 0 |`,
    `| worst recovery after a Redis-side fault (end of fault → first tick run) | ${worstRecovery} ms | < 2000 ms |`,
    `| outage warnings logged per worker | ${Object.entries(report.warningsPerWorker).map(([worker, count]) => `${worker}: ${count}`).join(', ') || 'none'} | ≤ 1 per outage |`,
  );
  for (const tick of [...report.missedInside, ...report.missedOutside, ...report.duplicates]) {
    lines.push(
      '',
      `${tick.task} @ ${iso(tick.tick)} (${tick.inFaultWindow ? 'inside' : 'outside'} a fault window): ` +
        `${tick.runs.length} runs${tick.runs.map((run) => ` ${run.worker}#${run.fence}`).join(',')}; ` +
        `skipped by ${tick.skips.join(' | ') || 'nobody'}`,
    );
  }
  return lines.join('\n');
}
