import { createClient } from 'redis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisServer, redisServerInstalled } from '../test/redis-server.js';
import {
  CLAIM_SCRIPT,
  OUTCOME_SCRIPT,
  claimScript,
  decodeClaimReply,
  decodeOutcomeReply,
  outcomeScript,
} from './claim-script.js';

const GRACE = 2000;

describe('decodeClaimReply', () => {
  it('decodes a granted reply', () => {
    expect(decodeClaimReply(['claimed', 3, 1_700_000_000_123, 1_700_000_000_000, 'a'])).toEqual({
      decision: 'claimed',
      fence: 3,
      serverTime: 1_700_000_000_123,
      lastTick: 1_700_000_000_000,
      owner: 'a',
    });
  });

  it('maps the "no tick yet" marker to undefined', () => {
    expect(decodeClaimReply(['late', 0, 5, -1, '']).lastTick).toBeUndefined();
  });

  it('rejects replies it does not understand', () => {
    expect(() => decodeClaimReply('OK')).toThrow(TypeError);
    expect(() => decodeClaimReply(['maybe', 0, 0, 0, ''])).toThrow(/Unexpected decision/);
  });
});

describe('decodeOutcomeReply', () => {
  it('accepts the three outcomes and nothing else', () => {
    expect(decodeOutcomeReply('recorded')).toBe('recorded');
    expect(decodeOutcomeReply('superseded')).toBe('superseded');
    expect(decodeOutcomeReply('conflict')).toBe('conflict');
    expect(() => decodeOutcomeReply('OK')).toThrow(TypeError);
  });
});

describe.skipIf(!redisServerInstalled)('CLAIM_SCRIPT', () => {
  let server: RedisServer;
  let client: ReturnType<typeof createClient>;
  let key = '';
  let sequence = 0;

  beforeAll(async () => {
    server = await RedisServer.start();
    client = createClient({ url: server.url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  beforeEach(() => {
    key = `claim-test:${++sequence}`;
  });

  async function serverNow(): Promise<number> {
    const [seconds, micros] = (await client.sendCommand(['TIME'])) as [string, string];
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  async function claim(rid: string, owner: string, tick: number, grace = GRACE) {
    const reply = await client.sendCommand(['EVAL', CLAIM_SCRIPT, '1', key, rid, owner, String(tick), String(grace)]);
    return decodeClaimReply(reply);
  }

  async function outcome(rid: string, status: string) {
    return decodeOutcomeReply(await client.sendCommand(['EVAL', OUTCOME_SCRIPT, '1', key, rid, status]));
  }

  async function hash(): Promise<Record<string, string>> {
    return (await client.hGetAll(key)) as Record<string, string>;
  }

  it('claims a fresh task: fence 1, the state written, stamped with the server clock', async () => {
    const tick = Math.floor((await serverNow()) / 1000) * 1000;
    const before = await serverNow();
    const reply = await claim('a:t:1', 'a', tick);
    expect(reply).toMatchObject({ decision: 'claimed', fence: 1, lastTick: tick, owner: 'a' });
    expect(reply.serverTime).toBeGreaterThanOrEqual(before);
    expect(await hash()).toEqual({
      tick: String(tick),
      rid: 'a:t:1',
      owner: 'a',
      fence: '1',
      status: 'running',
      claimedAt: String(reply.serverTime),
    });
  });

  it('answers a repeated request id with the same grant and fence, without writing', async () => {
    const tick = Math.floor((await serverNow()) / 1000) * 1000;
    await claim('a:t:1', 'a', tick);
    const state = await hash();
    const again = await claim('a:t:1', 'a', tick);
    expect(again).toMatchObject({ decision: 'repeat', fence: 1, lastTick: tick, owner: 'a' });
    expect(await hash()).toEqual(state);
  });

  it('refuses the same tick to another request id and names the holder', async () => {
    const tick = Math.floor((await serverNow()) / 1000) * 1000;
    await claim('a:t:1', 'a', tick);
    expect(await claim('b:t:1', 'b', tick)).toMatchObject({ decision: 'taken', fence: 0, lastTick: tick, owner: 'a' });
    expect((await hash()).rid).toBe('a:t:1');
  });

  it('refuses an earlier tick once a later one was claimed', async () => {
    const tick = Math.floor((await serverNow()) / 1000) * 1000;
    await claim('a:t:2', 'a', tick);
    expect(await claim('b:t:1', 'b', tick - 1000)).toMatchObject({ decision: 'superseded', fence: 0, lastTick: tick });
    expect((await hash()).tick).toBe(String(tick));
  });

  it('grants each later tick with a growing fence and resets the outcome', async () => {
    const tick = Math.floor((await serverNow()) / 1000) * 1000;
    await claim('a:t:1', 'a', tick - 1000);
    await outcome('a:t:1', 'succeeded');
    expect((await hash()).endedAt).toBeDefined();
    const next = await claim('b:t:2', 'b', tick);
    expect(next).toMatchObject({ decision: 'claimed', fence: 2, owner: 'b' });
    const state = await hash();
    expect(state).toMatchObject({ tick: String(tick), owner: 'b', status: 'running', succeeded: '1' });
    expect(state.endedAt).toBeUndefined();
  });

  it('refuses a claim that reaches the server later than the grace period after its tick', async () => {
    const tick = (await serverNow()) - GRACE - 500;
    const reply = await claim('a:t:1', 'a', tick);
    expect(reply.decision).toBe('late');
    expect(reply.serverTime - tick).toBeGreaterThan(GRACE);
    expect(await client.exists(key)).toBe(0);
  });

  it('grants a claim that is late but within the grace period', async () => {
    const tick = (await serverNow()) - GRACE + 1000;
    expect((await claim('a:t:1', 'a', tick)).decision).toBe('claimed');
  });

  it('refuses a claim for a tick further ahead of the server clock than the grace period', async () => {
    const tick = (await serverNow()) + GRACE + 5000;
    expect((await claim('a:t:1', 'a', tick)).decision).toBe('early');
    expect(await client.exists(key)).toBe(0);
  });

  it('checks an older tick before lateness, so a stale claim is reported as superseded', async () => {
    const tick = Math.floor((await serverNow()) / 1000) * 1000;
    await claim('a:t:2', 'a', tick);
    expect((await claim('b:t:0', 'b', tick - 60_000)).decision).toBe('superseded');
  });

  it('is loaded by EVALSHA under the SHA-1 the package computes', async () => {
    await client.sendCommand(['SCRIPT', 'FLUSH']);
    await expect(client.sendCommand(['EVALSHA', claimScript.sha, '1', key, 'r', 'o', '0', '1'])).rejects.toThrow(/NOSCRIPT/);
    expect(await client.sendCommand(['SCRIPT', 'LOAD', CLAIM_SCRIPT])).toBe(claimScript.sha);
    expect(await client.sendCommand(['SCRIPT', 'LOAD', OUTCOME_SCRIPT])).toBe(outcomeScript.sha);
  });
});

describe.skipIf(!redisServerInstalled)('OUTCOME_SCRIPT', () => {
  let server: RedisServer;
  let client: ReturnType<typeof createClient>;
  let key = '';
  let sequence = 0;

  beforeAll(async () => {
    server = await RedisServer.start();
    client = createClient({ url: server.url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  beforeEach(async () => {
    key = `outcome-test:${++sequence}`;
    const [seconds] = (await client.sendCommand(['TIME'])) as [string, string];
    const tick = Number(seconds) * 1000;
    await client.sendCommand(['EVAL', CLAIM_SCRIPT, '1', key, 'a:t:1', 'a', String(tick), String(GRACE)]);
  });

  async function outcome(rid: string, status: string) {
    return decodeOutcomeReply(await client.sendCommand(['EVAL', OUTCOME_SCRIPT, '1', key, rid, status]));
  }

  it('records the outcome of the latest claim, its end time and a counter', async () => {
    expect(await outcome('a:t:1', 'failed')).toBe('recorded');
    const state = (await client.hGetAll(key)) as Record<string, string>;
    expect(state).toMatchObject({ status: 'failed', failed: '1' });
    expect(Number(state.endedAt)).toBeGreaterThanOrEqual(Number(state.claimedAt));
  });

  it('counts a repeated report of the same outcome once', async () => {
    expect(await outcome('a:t:1', 'succeeded')).toBe('recorded');
    expect(await outcome('a:t:1', 'succeeded')).toBe('recorded');
    expect(await client.hGet(key, 'succeeded')).toBe('1');
  });

  it('refuses the other outcome once one is recorded', async () => {
    await outcome('a:t:1', 'succeeded');
    expect(await outcome('a:t:1', 'failed')).toBe('conflict');
    expect(await client.hGet(key, 'status')).toBe('succeeded');
    expect(await client.hGet(key, 'failed')).toBeNull();
  });

  it('ignores an outcome for a request that does not hold the latest claim', async () => {
    expect(await outcome('b:t:1', 'succeeded')).toBe('superseded');
    expect(await client.hGet(key, 'status')).toBe('running');
  });

  it('ignores an outcome for a task that was never claimed', async () => {
    key = 'outcome-test:never';
    expect(await outcome('a:t:1', 'succeeded')).toBe('superseded');
    expect(await client.exists(key)).toBe(0);
  });
});
