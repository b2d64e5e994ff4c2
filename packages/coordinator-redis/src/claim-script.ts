import { createHash } from 'node:crypto';

/**
 * Decides one tick of one task in one atomic step.
 *
 * KEYS[1]  the task's hash
 * ARGV[1]  requestResponseId
 * ARGV[2]  submitterId
 * ARGV[3]  the tick, epoch ms (an integer)
 * ARGV[4]  the grace period, ms
 * ARGV[5]  the claiming process's token (random per coordinator object)
 *
 * Returns `{ decision, fence, serverTime, lastTick, owner }`, where decision is
 * one of `claimed`, `repeat`, `taken`, `superseded`, `late`, `early`.
 *
 * The hash holds only the latest claim (`tick`, `rid`, `owner`, `token`,
 * `fence`, `status`, `claimedAt`, `endedAt`) and two counters, so memory stays
 * at one small key per task however many ticks go by. Time is the Redis
 * server's (`TIME`), never an instance's; scripts replicate their effects, so
 * `TIME` before a write is allowed.
 *
 * A grant is repeated only to the same request id from the same process for
 * the same tick. A tick its holder handed back unstarted (`abandoned`, see
 * `ABANDON_SCRIPT`) may be claimed again by anyone while it is within the
 * grace period; that claim gets a new, larger fence. The fence is `max(previous fence + 1, tick × 1000)`: it grows
 * with the tick even when Redis has lost the previous fence (an empty restart,
 * an older snapshot, a replica promoted before it caught up), and a tick
 * granted twice after such a loss gets the same fence both times.
 */
export const CLAIM_SCRIPT = `
local key = KEYS[1]
local rid = ARGV[1]
local tick = tonumber(ARGV[3])
local grace = tonumber(ARGV[4])
local token = ARGV[5] or ''
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', key, 'tick', 'rid', 'fence', 'owner', 'token', 'abandoned')
local lastTick = tonumber(state[1])
local owner = state[4] or ''
if lastTick ~= nil and tick == lastTick then
  if state[2] == rid and (state[5] or '') == token then
    return {'repeat', tonumber(state[3]), now, lastTick, owner}
  end
  if state[6] ~= '1' then
    return {'taken', 0, now, lastTick, owner}
  end
end
if lastTick ~= nil and tick < lastTick then
  return {'superseded', 0, now, lastTick, owner}
end
if now - tick > grace then
  return {'late', 0, now, lastTick or -1, owner}
end
if tick - now > grace then
  return {'early', 0, now, lastTick or -1, owner}
end
local fence = math.max((tonumber(state[3]) or 0) + 1, tick * 1000)
redis.call('HSET', key, 'tick', ARGV[3], 'rid', rid, 'owner', ARGV[2], 'token', token,
  'fence', string.format('%.0f', fence), 'status', 'running', 'claimedAt', string.format('%.0f', now))
redis.call('HDEL', key, 'endedAt', 'abandoned')
return {'claimed', fence, now, tick, ARGV[2]}
`;

/**
 * Records how the run of a claim ended.
 *
 * KEYS[1]  the task's hash
 * ARGV[1]  requestResponseId of the claim
 * ARGV[2]  `succeeded`, `failed` or `cancelled`
 * ARGV[3]  the claim's tick, epoch ms
 * ARGV[4]  the claiming process's token
 *
 * Returns `recorded` (also for a repeated report of the same outcome),
 * `superseded` (the claim is not the task's latest any more, or never was) or
 * `conflict` (the claim already ended with the other outcome).
 */
export const OUTCOME_SCRIPT = `
local key = KEYS[1]
local state = redis.call('HMGET', key, 'rid', 'status', 'tick', 'token')
if state[1] ~= ARGV[1] or state[3] ~= ARGV[3] or (state[4] or '') ~= (ARGV[4] or '') then
  return 'superseded'
end
if state[2] == ARGV[2] then
  return 'recorded'
end
if state[2] ~= 'running' then
  return 'conflict'
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('HSET', key, 'status', ARGV[2], 'endedAt', string.format('%.0f', now))
redis.call('HINCRBY', key, ARGV[2], 1)
return 'recorded'
`;

/** A Lua script and its SHA-1, for `EVALSHA` with a fall-back to `EVAL`. */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * Hands back a claimed tick whose run never started (its instance is
 * stopping): the outcome becomes `cancelled`, and the claim script grants the
 * tick again to the next instance that asks within the grace period.
 *
 * KEYS[1]  the task's hash
 * ARGV[1]  requestResponseId of the claim
 * ARGV[2]  the claim's tick, epoch ms
 * ARGV[3]  the claiming process's token
 *
 * Returns `abandoned`, `superseded` (not the task's latest claim, or not this
 * process's) or `ended` (an outcome was recorded already).
 */
export const ABANDON_SCRIPT = `
local key = KEYS[1]
local state = redis.call('HMGET', key, 'rid', 'status', 'tick', 'token')
if state[1] ~= ARGV[1] or state[3] ~= ARGV[2] or (state[4] or '') ~= (ARGV[3] or '') then
  return 'superseded'
end
if state[2] ~= 'running' then
  return 'ended'
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('HSET', key, 'status', 'cancelled', 'abandoned', '1', 'endedAt', string.format('%.0f', now))
redis.call('HINCRBY', key, 'cancelled', 1)
return 'abandoned'
`;

export const claimScript: LuaScript = script(CLAIM_SCRIPT);
export const outcomeScript: LuaScript = script(OUTCOME_SCRIPT);
export const abandonScript: LuaScript = script(ABANDON_SCRIPT);

/** How the claim script decided. */
export type ClaimDecision = 'claimed' | 'repeat' | 'taken' | 'superseded' | 'late' | 'early';

/** The claim script's reply, decoded. */
export interface ClaimReply {
  decision: ClaimDecision;
  /** The fencing number of the claim; 0 when it was not granted. */
  fence: number;
  /** The Redis server's clock when it decided, epoch ms. */
  serverTime: number;
  /** The task's latest claimed tick after the decision; undefined for none. */
  lastTick: number | undefined;
  /** The instance that holds the latest claim ('' for none). */
  owner: string;
}

const decisions = new Set<string>(['claimed', 'repeat', 'taken', 'superseded', 'late', 'early']);

/** Decodes the claim script's reply (RESP2 or RESP3, strings or buffers). */
export function decodeClaimReply(reply: unknown): ClaimReply {
  if (!Array.isArray(reply) || reply.length !== 5) {
    throw new TypeError(`Unexpected reply from the claim script: ${String(reply)}`);
  }
  const decision = String(reply[0]);
  if (!decisions.has(decision)) throw new TypeError(`Unexpected decision from the claim script: ${decision}`);
  const lastTick = Number(reply[3]);
  return {
    decision: decision as ClaimDecision,
    fence: Number(reply[1]),
    serverTime: Number(reply[2]),
    lastTick: lastTick < 0 ? undefined : lastTick,
    owner: String(reply[4]),
  };
}

/** How the outcome script decided. */
export type OutcomeDecision = 'recorded' | 'superseded' | 'conflict';

/** How the abandon script decided. */
export type AbandonDecision = 'abandoned' | 'superseded' | 'ended';

export function decodeAbandonReply(reply: unknown): AbandonDecision {
  const text = String(reply);
  if (text === 'abandoned' || text === 'superseded' || text === 'ended') return text;
  throw new TypeError(`Unexpected reply from the abandon script: ${text}`);
}

export function decodeOutcomeReply(reply: unknown): OutcomeDecision {
  const text = String(reply);
  if (text === 'recorded' || text === 'superseded' || text === 'conflict') return text;
  throw new TypeError(`Unexpected reply from the outcome script: ${text}`);
}
