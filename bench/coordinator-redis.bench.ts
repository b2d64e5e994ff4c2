/**
 * The Redis coordinator against a private `redis-server` on a free loopback
 * port, side by side with the two floors every Redis lock pays: one `PING`
 * (a bare round trip) and one `SET key NX PX` (the usual lock, one key per
 * tick).
 *
 * - claim latency: one coordinator, sequential claims, each a new tick of one
 *   of 1,000 tasks (the write path of the Lua script); p50 / p99.
 * - decisions per second: 5 coordinators (5 connections) ask for the same
 *   ticks of 2,000 tasks at once, 5 rounds; each instance keeps up to 64
 *   claims in flight. Every tick must be granted exactly once.
 * - memory: `MEMORY USAGE` of one task's key after many ticks, and the number
 *   of keys (one per task, however many ticks).
 *
 * Prints a markdown section with the figures and the goals as PASS/FAIL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IDistributedTaskRequest } from '@taskbuffer/core';
import { RedisCoordinator } from '@taskbuffer/coordinator-redis';
import { createClient } from 'redis';

const LATENCY_CLAIMS = 5_000;
const LATENCY_TASKS = 1_000;
const INSTANCES = 5;
const THROUGHPUT_TASKS = 2_000;
const THROUGHPUT_ROUNDS = 5;
const IN_FLIGHT = 64;

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

async function startRedis(): Promise<{ port: number; process: ChildProcess; dir: string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'taskbuffer-bench-redis-'));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await ping(port)) return { port, process: child, dir };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not start');
}

function request(submitterId: string, taskName: string, tick: number): IDistributedTaskRequest {
  return {
    submitterId,
    requestResponseId: `${submitterId}:${taskName}:${tick}`,
    taskName,
    taskVersion: '1',
    taskExecutionTime: tick,
    taskExecutionTimeout: 0,
    taskExecutionParallel: 1,
    status: 'requesting',
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function summary(samples: number[]): { p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

async function timeEach(count: number, run: (index: number) => Promise<unknown>): Promise<number[]> {
  const samples = new Array<number>(count);
  for (let index = 0; index < count; index++) {
    const start = performance.now();
    await run(index);
    samples[index] = performance.now() - start;
  }
  return samples;
}

async function pool(count: number, limit: number, run: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: limit }, async () => {
    while (next < count) await run(next++);
  });
  await Promise.all(workers);
}

async function main(): Promise<void> {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  try {
    redis = await startRedis();
  } catch (error) {
    console.log('## Redis coordinator\n');
    console.log(`Skipped: could not start \`redis-server\` (${(error as Error).message}); install it with \`apt-get install -y redis-server\`.\n`);
    return;
  }
  const url = `redis://127.0.0.1:${redis.port}`;
  const raw = createClient({ url });
  await raw.connect();
  const coordinators = Array.from({ length: INSTANCES }, () => new RedisCoordinator({ url, logger: quiet }));
  await Promise.all(coordinators.map((coordinator) => coordinator.start()));
  const [single] = coordinators as [RedisCoordinator];

  try {
    // Warm-up: script loaded, connections and JIT warm.
    await timeEach(500, (index) => raw.ping());
    await timeEach(500, (index) => raw.set(`warm:${index}`, '1', { NX: true, PX: 60_000 }));
    await timeEach(500, (index) => single.fireDistributedTaskRequest(request('warm', `warm-${index}`, Date.now())));

    // Claim latency, interleaved with the floors so that load drifts hit all three alike.
    const pingSamples: number[] = [];
    const setSamples: number[] = [];
    const claimSamples: number[] = [];
    let granted = 0;
    let roundTick = Date.now();
    for (let index = 0; index < LATENCY_CLAIMS; index++) {
      if (index % LATENCY_TASKS === 0) {
        const now = Date.now();
        roundTick = now > roundTick ? now : roundTick + 1;
      }
      let start = performance.now();
      await raw.ping();
      pingSamples.push(performance.now() - start);
      start = performance.now();
      await raw.set(`lock:t${index % LATENCY_TASKS}:${roundTick}`, 'a', { NX: true, PX: 60_000 });
      setSamples.push(performance.now() - start);
      start = performance.now();
      const result = await single.fireDistributedTaskRequest(request('a', `t${index % LATENCY_TASKS}`, roundTick));
      claimSamples.push(performance.now() - start);
      if (result.shouldTrigger) granted++;
    }
    const pingStats = summary(pingSamples);
    const setStats = summary(setSamples);
    const claimStats = summary(claimSamples);

    // Decisions per second: 5 instances, the same ticks, contended.
    let decisions = 0;
    let duplicates = 0;
    let unanswered = 0;
    let elapsedMs = 0;
    for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
      const tick = Date.now() + round;
      const grants = new Uint8Array(THROUGHPUT_TASKS);
      const start = performance.now();
      await Promise.all(
        coordinators.map((coordinator, instance) =>
          pool(THROUGHPUT_TASKS, IN_FLIGHT, async (task) => {
            const result = await coordinator.fireDistributedTaskRequest(request(`i${instance}`, `load-${task}`, tick));
            decisions++;
            if (result.decision === 'unavailable') unanswered++;
            if (result.shouldTrigger) grants[task]!++;
          }),
        ),
      );
      elapsedMs += performance.now() - start;
      for (const count of grants) if (count !== 1) duplicates++;
    }
    const decisionsPerSecond = decisions / (elapsedMs / 1000);

    // The same load with SET NX PX (one key per tick) for comparison.
    const setClients = await Promise.all(
      Array.from({ length: INSTANCES }, async () => {
        const client = createClient({ url });
        await client.connect();
        return client;
      }),
    );
    let setElapsedMs = 0;
    let setDecisions = 0;
    for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
      const tick = Date.now() + round;
      const start = performance.now();
      await Promise.all(
        setClients.map((client) =>
          pool(THROUGHPUT_TASKS, IN_FLIGHT, async (task) => {
            await client.set(`setlock:load-${task}:${tick}`, 'x', { NX: true, PX: 60_000 });
            setDecisions++;
          }),
        ),
      );
      setElapsedMs += performance.now() - start;
    }
    const setPerSecond = setDecisions / (setElapsedMs / 1000);
    await Promise.all(setClients.map((client) => client.close()));

    // Memory: one key per task however many ticks.
    const memoryKey = single.keyFor('t0');
    const keyBytes = Number(await raw.sendCommand(['MEMORY', 'USAGE', memoryKey]));
    const claimKeys = (await raw.keys(`${single.keyPrefix}*`)).length;
    const tasksSeen = LATENCY_TASKS + 500 + THROUGHPUT_TASKS;
    const setKeys = (await raw.keys('setlock:*')).length + (await raw.keys('lock:*')).length;

    const mark = (pass: boolean) => (pass ? 'PASS' : 'FAIL');
    const ms = (value: number) => `${value.toFixed(3)} ms`;
    const rate = (value: number) => `${Math.round(value).toLocaleString('en-US')}/s`;
    const roundTrips = claimStats.p50 / pingStats.p50;

    console.log('## Redis coordinator\n');
    console.log(
      `A private \`redis-server\` ${(await raw.sendCommand(['INFO', 'server'])).toString().match(/redis_version:(\S+)/)?.[1] ?? ''} ` +
        `on loopback (no persistence), node-redis client. Latency: ${LATENCY_CLAIMS.toLocaleString('en-US')} sequential ` +
        `requests of each kind, interleaved (${granted.toLocaleString('en-US')} claims granted). Throughput: ${INSTANCES} instances ` +
        `(one connection each) ask for the same tick of ${THROUGHPUT_TASKS.toLocaleString('en-US')} tasks, ${THROUGHPUT_ROUNDS} rounds, ` +
        `${IN_FLIGHT} claims in flight per instance.\n`,
    );
    console.log('| operation | p50 | p99 | decisions/s, 5 instances |');
    console.log('| --- | ---: | ---: | ---: |');
    console.log(`| \`PING\` (one bare round trip) | ${ms(pingStats.p50)} | ${ms(pingStats.p99)} | |`);
    console.log(
      `| \`SET key NX PX\` (a key per tick) | ${ms(setStats.p50)} | ${ms(setStats.p99)} | ${rate(setPerSecond)} |`,
    );
    console.log(
      `| \`RedisCoordinator\` claim (Lua, one key per task) | ${ms(claimStats.p50)} | ${ms(claimStats.p99)} | ${rate(decisionsPerSecond)} |`,
    );
    console.log(
      `\nKeys: the coordinator holds ${claimKeys.toLocaleString('en-US')} keys for ${tasksSeen.toLocaleString('en-US')} tasks after ` +
        `${(LATENCY_CLAIMS + 500 + decisions).toLocaleString('en-US')} claims; one task's key takes ${keyBytes} bytes ` +
        `(\`MEMORY USAGE\`). The \`SET NX\` lock left ${setKeys.toLocaleString('en-US')} keys (one per tick, until they expire).\n`,
    );
    console.log('| goal | measured | result |');
    console.log('| --- | ---: | --- |');
    console.log(`| claim p50 < 2 ms on loopback | ${ms(claimStats.p50)} | ${mark(claimStats.p50 < 2)} |`);
    console.log(
      `| one round trip: claim p50 < 2 × \`PING\` p50 | ${roundTrips.toFixed(2)}× | ${mark(roundTrips < 2)} |`,
    );
    console.log(
      `| every contended tick granted exactly once (${(THROUGHPUT_TASKS * THROUGHPUT_ROUNDS).toLocaleString('en-US')} ticks) | ${duplicates} wrong, ${unanswered} unanswered | ${mark(duplicates === 0 && unanswered === 0)} |`,
    );
    console.log(
      `| one key per task, < 256 bytes | ${claimKeys === tasksSeen ? 'one per task' : `${claimKeys} keys`}, ${keyBytes} B | ${mark(claimKeys === tasksSeen && keyBytes < 256)} |`,
    );
    console.log('');
  } finally {
    await Promise.all(coordinators.map((coordinator) => coordinator.stop()));
    await raw.close();
    redis.process.kill('SIGKILL');
    rmSync(redis.dir, { recursive: true, force: true });
  }
}

await main();
