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

  async function claim(rid: string, owner: string, tick: number, grace = GRACE, token = '') {
    const reply = await client.sendCommand(['EVAL', CLAIM_SCRIPT, '1', key, rid, owner, String(tick), String(grace), token]);
    return decodeClaimReply(reply);
  }

  async function outcome(rid: string, status: string, tick: number, token = '') {
    return decodeOutcomeReply(
      await client.sendCommand(['EVAL', OUTCOME_SCRIPT, '1', key, rid, status, String(tick), token]),
    );
  }

  async function hash(): Promise<Record<string, string>> {
    return (await client.hGetAll(key)) as Record<string, string>;
  }

  it('claims a fresh task: fence 1, the state written, stamped with the server clock', async () => {
    const tick = Math.floor((await serverNow()) / 1000) * 1000;
    const before = await serverNow();
    const reply = await claim('a:t:1', 'a', tick);
    expect(reply).toMatchObject({ decision: 'claimed', fence: tick * 1000, lastTick: tick, owner: 'a' });
    expect(reply.serverTime).toBeGreaterThanOrEqual(before);
    expect(await hash()).toEqual({
      tick: String(tick),
      rid: 'a:t:1',
      owner: 'a',
      token: '',
      fence: String(tick * 1000),
      status: 'running',
      claimedAt: String(reply.serverTime),
    });
  });

  it('answers a repeated request id with the same grant and fence, without writing', async () => {
    const tick = Math.floor((await serverNow()) / 1000) * 1000;
    await claim('a:t:1', 'a', tick);
    const state = await hash();
    const again = await claim('a:t:1', 'a', tick);
    expect(again).toMatchObject({ decision: 'repeat', fence: tick * 1000, lastTick: tick, owner: 'a' });
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
    await outcome('a:t:1', 'succeeded', tick - 1000);
    expect((await hash()).endedAt).toBeDefined();
    const next = await claim('b:t:2', 'b', tick);
    expect(next).toMatchObject({ decision: 'claimed', fence: tick * 1000, owner: 'b' });
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

  it('repeats a grant only for the same request id, process token and tick', async () => {
    const tick = Math.floor((await serverNow()) / 1000) * 1000;
    const first = await claim('a:t', 'a', tick - 1000, GRACE, 'process-1');
    expect(first.decision).toBe('claimed');
    // The same instanceId in another process sends the same request id with another token.
    expect(await claim('a:t', 'a', tick - 1000, GRACE, 'process-2')).toMatchObject({ decision: 'taken', fence: 0 });
    expect(await claim('a:t', 'a', tick - 1000, GRACE, 'process-1')).toMatchObject({ decision: 'repeat', fence: first.fence });
    // A request id reused for another tick is a claim of that tick, never the old grant.
    const later = await claim('a:t', 'a', tick, GRACE, 'process-1');
    expect(later).toMatchObject({ decision: 'claimed', lastTick: tick });
    expect(later.fence).toBeGreaterThan(first.fence);
    expect(await claim('a:t', 'a', tick - 1000, GRACE, 'process-1')).toMatchObject({ decision: 'superseded' });
  });

  describe('fences', () => {
    it('grow with the tick after the key was lost, and repeat for a tick granted again', async () => {
      const tick = Math.floor((await serverNow()) / 1000) * 1000;
      const granted: number[] = [];
      for (const offset of [-1500, -1000, -500]) granted.push((await claim(`a:${offset}`, 'a', tick + offset)).fence);
      expect(granted).toEqual([...granted].sort((a, b) => a - b));
      // Redis forgets everything (an empty restart, an older snapshot without this key).
      await client.del(key);
      const again = await claim('b:-500', 'b', tick - 500);
      expect(again.decision).toBe('claimed');
      // The same tick granted a second time carries the same fence: a downstream check refuses its writer.
      expect(again.fence).toBe(granted[2]);
      const next = await claim('b:0', 'b', tick);
      expect(next.fence).toBeGreaterThan(granted[2]!);
    });

    it('grow past a stored fence that is larger than the tick (an older counter, or a tick granted again)', async () => {
      const tick = Math.floor((await serverNow()) / 1000) * 1000;
      await client.hSet(key, { tick: String(tick - 1000), rid: 'old', owner: 'old', fence: String(tick * 1000 + 5) });
      expect((await claim('a:t', 'a', tick)).fence).toBe(tick * 1000 + 6);
    });

    it('keep growing from an old small counter', async () => {
      const tick = Math.floor((await serverNow()) / 1000) * 1000;
      await client.hSet(key, { tick: String(tick - 1000), rid: 'old', owner: 'old', fence: '50' });
      expect((await claim('a:t', 'a', tick)).fence).toBe(tick * 1000);
    });
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

  let tick = 0;

  beforeEach(async () => {
    key = `outcome-test:${++sequence}`;
    const [seconds] = (await client.sendCommand(['TIME'])) as [string, string];
    tick = Number(seconds) * 1000;
    await client.sendCommand(['EVAL', CLAIM_SCRIPT, '1', key, 'a:t:1', 'a', String(tick), String(GRACE), 'token-a']);
  });

  async function outcome(rid: string, status: string, forTick = tick, token = 'token-a') {
    return decodeOutcomeReply(
      await client.sendCommand(['EVAL', OUTCOME_SCRIPT, '1', key, rid, status, String(forTick), token]),
    );
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

  it('ignores an outcome that names another tick or comes from another process', async () => {
    expect(await outcome('a:t:1', 'succeeded', tick - 1000)).toBe('superseded');
    expect(await outcome('a:t:1', 'succeeded', tick, 'token-b')).toBe('superseded');
    expect(await client.hGet(key, 'status')).toBe('running');
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
