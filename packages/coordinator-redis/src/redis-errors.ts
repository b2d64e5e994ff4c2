/**
 * What an error from Redis (or from the client talking to it) means for the
 * command that met it:
 *
 * - `transient`: the connection is down, slow or busy (`ECONNREFUSED`, a
 *   reset, a timeout, `LOADING`, `BUSY`, `TRYAGAIN`, …). Retrying on the same
 *   connection, once it is back, can succeed.
 * - `redial`: the connection reaches a server that cannot take writes any more
 *   (`READONLY`: a demoted primary; `MASTERDOWN`: a replica that lost its
 *   primary). Only a new connection, which may reach the new primary, can
 *   succeed.
 * - `permanent`: the same command will fail the same way however often it is
 *   sent (`NOPERM`, `WRONGPASS`, `MOVED`, `NOSCRIPT` after `EVAL`, a script
 *   error, a client that throws a `TypeError`, …). The caller gives up at once.
 */
export type RedisErrorKind = 'transient' | 'redial' | 'permanent';

export interface RedisErrorClass {
  kind: RedisErrorKind;
  /**
   * A short name of the cause: the Redis error code (`READONLY`, `NOPERM`, …),
   * the socket error code (`ECONNREFUSED`, …), or the error's class name.
   */
  code: string;
  /** One line saying what went wrong and, for a permanent error, what to do about it. */
  description: string;
}

/** Redis error replies that a retry on the same connection can get past. */
const TRANSIENT_REPLIES: Record<string, string> = {
  LOADING: 'the Redis server is loading its data set',
  BUSY: 'the Redis server is busy running a script',
  TRYAGAIN: 'the Redis Cluster is moving a slot (TRYAGAIN)',
  CLUSTERDOWN: 'the Redis Cluster is down',
  NOREPLICAS: 'not enough replicas acknowledge writes (min-replicas-to-write)',
};

/** Redis error replies that only a new connection can get past. */
const REDIAL_REPLIES: Record<string, string> = {
  READONLY: 'the Redis server is a read-only replica (a demoted primary?)',
  MASTERDOWN: 'the Redis replica lost its primary',
};

/** Redis error replies that no retry can get past; each says what to fix. */
const PERMANENT_REPLIES: Record<string, string> = {
  NOPERM: 'the Redis user lacks a permission the coordinator needs (see the ACL in the README)',
  NOAUTH: 'the Redis server requires a password: put it in the url or the client options',
  WRONGPASS: 'the Redis username or password is wrong',
  MOVED: 'the key lives on another Redis Cluster node: pass a cluster client, not a client of one node',
  ASK: 'the key is moving to another Redis Cluster node: pass a cluster client, not a client of one node',
  CROSSSLOT: 'the keys of one command map to different Redis Cluster slots',
  NOSCRIPT: 'the Redis server does not keep the script even after EVAL',
  OOM: 'the Redis server is out of memory (maxmemory reached with noeviction)',
  WRONGTYPE: 'the key holds a value of another type: is the key prefix shared with something else?',
  EXECABORT: 'the Redis transaction was aborted',
  ERR: 'the Redis server refused the command',
};

/** Socket and client-side failures: the connection is down or did not answer. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Error classes of node-redis and ioredis that mean "no connection right now". */
const TRANSIENT_NAMES = new Set([
  'ClientClosedError',
  'ClientOfflineError',
  'DisconnectsClientError',
  'SocketClosedUnexpectedlyError',
  'ConnectionTimeoutError',
  'SocketTimeoutError',
  'ReconnectStrategyError',
  'TimeoutError',
  'AbortError',
  'MaxRetriesPerRequestError',
]);

/** Programming errors: a client that does not fit (a `TypeError` deep inside it) will not start fitting. */
const PROGRAMMING_ERRORS = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError']);

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The first word of a Redis error reply (`NOPERM`, `READONLY`, …), if the message starts with one. */
export function replyCode(error: unknown): string | undefined {
  const match = /^-?([A-Z][A-Z_]{1,31})(?:\s|$)/.exec(messageOf(error));
  return match?.[1];
}

/** Classifies an error met while talking to Redis; see `RedisErrorKind`. */
export function classifyRedisError(error: unknown): RedisErrorClass {
  const message = messageOf(error).split('\n', 1)[0]!;
  const code = replyCode(error);
  if (code !== undefined) {
    const transient = TRANSIENT_REPLIES[code];
    if (transient !== undefined) return { kind: 'transient', code, description: `${transient} (${message})` };
    const redial = REDIAL_REPLIES[code];
    if (redial !== undefined) return { kind: 'redial', code, description: `${redial} (${message})` };
    if (code === 'ERR' && /max number of clients/i.test(message)) {
      return { kind: 'transient', code, description: `the Redis server has no room for another client (${message})` };
    }
    const permanent = PERMANENT_REPLIES[code];
    // An error reply nobody listed is a refusal of its own: retrying sends the same command again.
    return { kind: 'permanent', code, description: `${permanent ?? 'the Redis server refused the command'} (${message})` };
  }
  if (error instanceof Error) {
    const socketCode = (error as { code?: unknown }).code;
    if (typeof socketCode === 'string' && TRANSIENT_CODES.has(socketCode)) {
      return { kind: 'transient', code: socketCode, description: message };
    }
    if (TRANSIENT_NAMES.has(error.name) || TRANSIENT_NAMES.has(error.constructor.name)) {
      return { kind: 'transient', code: error.constructor.name, description: message };
    }
    if (PROGRAMMING_ERRORS.has(error.name)) {
      return {
        kind: 'permanent',
        code: error.name,
        description: `the Redis client failed inside (${error.name}: ${message}); is it a kind of client the coordinator supports?`,
      };
    }
    const aggregated = (error as { errors?: unknown }).errors;
    if (error instanceof AggregateError || Array.isArray(aggregated)) {
      // `connect ECONNREFUSED` on a host with both an IPv4 and an IPv6 address.
      const first = Array.isArray(aggregated) ? aggregated[0] : undefined;
      if (first !== undefined) return classifyRedisError(first);
    }
    return { kind: 'transient', code: error.constructor.name, description: message };
  }
  return { kind: 'transient', code: 'unknown', description: message };
}
