import {
  IoRedisConnection,
  type IoRedisClientLike,
  NodeRedisConnection,
  type NodeRedisClientLike,
  type RedisConnection,
} from './redis-connection.js';
import type { RedisTlsOptions } from './redis-connection-options.js';

type Listener = (...args: any[]) => void;

/** The part of a node-redis cluster client (`createCluster()`) the package uses. */
export interface NodeRedisClusterLike {
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
  readonly isReady: boolean;
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  getSlotRandomNode(slot: number): unknown;
  on(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}

/** The part of a node-redis Sentinel client (`createSentinel()`) the package uses. */
export interface NodeRedisSentinelLike {
  sendCommand(isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
  readonly isReady: boolean;
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  getMasterNode(): unknown;
  on(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}

/**
 * A Redis client the package can talk through: node-redis (`createClient()`,
 * `createCluster()`, `createSentinel()`) or ioredis (`new Redis()`, `new
 * Cluster()`, `new Redis({ sentinels })`).
 */
export type RedisClientLike = NodeRedisClientLike | NodeRedisClusterLike | NodeRedisSentinelLike | IoRedisClientLike;

/** Which kind of client was passed. */
export type RedisClientKind =
  | 'node-redis'
  | 'node-redis-cluster'
  | 'node-redis-sentinel'
  | 'ioredis'
  | 'ioredis-cluster'
  | 'ioredis-sentinel';

const EXPECTED_CLIENT =
  'a node-redis client (createClient(), createCluster() or createSentinel()) or an ioredis client (new Redis(), new Cluster() or new Redis({ sentinels }))';

function has(value: object, name: string, type: 'function' | 'boolean' | 'string'): boolean {
  return typeof (value as Record<string, unknown>)[name] === type;
}

/**
 * Tells which client this is, or why it cannot be used. Duck-typed, so that
 * neither client package has to be installed to tell them apart.
 */
export function classifyClient(client: unknown): { kind: RedisClientKind } | { refused: string } {
  if (typeof client !== 'object' || client === null) return { refused: '' };
  if (has(client, 'call', 'function') && has(client, 'status', 'string')) {
    const ioredis = client as { isCluster?: unknown; options?: { sentinels?: unknown } };
    if (ioredis.isCluster === true) return { kind: 'ioredis-cluster' };
    const sentinels = ioredis.options?.sentinels;
    return { kind: Array.isArray(sentinels) && sentinels.length > 0 ? 'ioredis-sentinel' : 'ioredis' };
  }
  if (!has(client, 'sendCommand', 'function')) return { refused: '' };
  if (has(client, 'execute', 'function') && 'totalClients' in client) {
    return {
      refused: 'a node-redis client pool (createClientPool()): pass a client from createClient(), or give `url`',
    };
  }
  if (has(client, 'release', 'function') && !has(client, 'connect', 'function')) {
    return {
      refused: 'a client leased from a node-redis Sentinel (sentinel.acquire()): pass the Sentinel client itself',
    };
  }
  if (!has(client, 'isOpen', 'boolean') || !has(client, 'connect', 'function') || !has(client, 'on', 'function')) {
    return { refused: '' };
  }
  if (has(client, 'getSlotRandomNode', 'function')) return { kind: 'node-redis-cluster' };
  if (has(client, 'getMasterNode', 'function')) return { kind: 'node-redis-sentinel' };
  if (!has(client, 'isReady', 'boolean')) {
    return { refused: 'a node-redis client without `isReady` (node-redis 4.0): use node-redis 5 or 6' };
  }
  return { kind: 'node-redis' };
}

/** Throws a `TypeError` naming `client` unless it is a client the package can use. */
export function checkClient(client: unknown): RedisClientKind {
  const verdict = classifyClient(client);
  if ('kind' in verdict) return verdict.kind;
  const given = verdict.refused === '' ? describeClient(client) : verdict.refused;
  throw new TypeError(`Expected \`client\` to be ${EXPECTED_CLIENT}, got ${given}`);
}

function describeClient(value: unknown): string {
  if (typeof value === 'object' && value !== null) {
    const name = value.constructor?.name;
    if (name !== undefined && name !== 'Object') return `an instance of ${name}`;
    const keys = Object.keys(value);
    return keys.length === 0 ? '`{}` (object)' : `an object with ${keys.slice(0, 5).map((key) => `\`${key}\``).join(', ')}`;
  }
  if (typeof value === 'string') return `\`"${value}"\` (string)`;
  return `\`${String(value)}\` (${typeof value})`;
}

/** Commands that name no key: a cluster may send them to any node. */
const KEYLESS = new Set(['TIME', 'PING', 'INFO', 'ECHO', 'ROLE', 'HELLO', 'CLIENT', 'SCRIPT', 'FUNCTION', 'CONFIG']);

/**
 * The key a command touches, for routing it in a cluster. Every command the
 * package sends touches at most one key (a script names its one key in KEYS).
 */
export function routingKey(args: readonly string[]): string | undefined {
  const name = args[0]?.toUpperCase();
  if (name === undefined || KEYLESS.has(name)) return undefined;
  if (name === 'EVAL' || name === 'EVALSHA' || name === 'EVAL_RO' || name === 'EVALSHA_RO' || name === 'FCALL') {
    return Number(args[2]) > 0 ? args[3] : undefined;
  }
  return args[1];
}

type Closable = {
  close?: () => Promise<unknown>;
  quit?: () => Promise<unknown>;
  destroy?: () => unknown;
  disconnect?: () => unknown;
};

/**
 * Presents a node-redis cluster as a single client: each command goes to the
 * primary that owns its key (redirections are the cluster client's business).
 * A cluster reports readiness with `connect`, not `ready`.
 */
class NodeRedisClusterAdapter implements NodeRedisClientLike {
  readonly #cluster: NodeRedisClusterLike & Closable;

  constructor(cluster: NodeRedisClusterLike) {
    this.#cluster = cluster;
  }

  get isReady(): boolean {
    return this.#cluster.isReady;
  }

  get isOpen(): boolean {
    return this.#cluster.isOpen;
  }

  sendCommand(args: string[]): Promise<unknown> {
    // Always the primary: a claim writes, and a read must see the latest claim.
    return this.#cluster.sendCommand(routingKey(args), false, args);
  }

  connect(): Promise<unknown> {
    return this.#cluster.connect();
  }

  on(event: string, listener: Listener): this {
    this.#cluster.on(event === 'ready' ? 'connect' : event, listener);
    return this;
  }

  off(event: string, listener: Listener): this {
    this.#cluster.off(event === 'ready' ? 'connect' : event, listener);
    return this;
  }

  close(): Promise<unknown> {
    return this.#cluster.close?.() ?? this.#cluster.quit?.() ?? Promise.resolve();
  }

  destroy(): void {
    settle(this.#cluster.destroy?.() ?? this.#cluster.disconnect?.());
  }
}

/** Presents a node-redis Sentinel client as a single client: every command goes to the current primary. */
class NodeRedisSentinelAdapter implements NodeRedisClientLike {
  readonly #sentinel: NodeRedisSentinelLike & Closable;

  constructor(sentinel: NodeRedisSentinelLike) {
    this.#sentinel = sentinel;
  }

  get isReady(): boolean {
    return this.#sentinel.isReady;
  }

  get isOpen(): boolean {
    return this.#sentinel.isOpen;
  }

  sendCommand(args: string[]): Promise<unknown> {
    return this.#sentinel.sendCommand(false, args);
  }

  connect(): Promise<unknown> {
    return this.#sentinel.connect();
  }

  on(event: string, listener: Listener): this {
    this.#sentinel.on(event, listener);
    return this;
  }

  off(event: string, listener: Listener): this {
    this.#sentinel.off(event, listener);
    return this;
  }

  close(): Promise<unknown> {
    return this.#sentinel.close?.() ?? Promise.resolve();
  }

  destroy(): void {
    settle(this.#sentinel.destroy?.());
  }
}

/** A teardown that returns a promise must not leave it unhandled. */
function settle(result: unknown): void {
  if (result instanceof Promise) result.catch(() => undefined);
}

/** The connection for a client the user passed, whatever its kind. */
export function connectionForClient(client: RedisClientLike): RedisConnection {
  switch (checkClient(client)) {
    case 'node-redis':
      return new NodeRedisConnection(client as NodeRedisClientLike);
    case 'node-redis-cluster':
      return new NodeRedisConnection(new NodeRedisClusterAdapter(client as NodeRedisClusterLike));
    case 'node-redis-sentinel':
      return new NodeRedisConnection(new NodeRedisSentinelAdapter(client as NodeRedisSentinelLike));
    default:
      return new IoRedisConnection(client as IoRedisClientLike);
  }
}

/** Settings of a connection the package makes and owns. */
export interface OwnedConnectionSettings {
  url: string;
  tls: RedisTlsOptions | undefined;
  /** How long to wait for a TCP (and TLS) connection, ms. */
  connectTimeout: number;
}

/** The message when neither client package can be loaded. */
export const MISSING_DRIVER_MESSAGE =
  'Connecting by `url` needs a Redis client package: install `redis` (node-redis 5 or 6) or `ioredis` (5 or 6), or pass a client as `client`';

/** Whether an import failed because the package is not installed (looking through wrapped causes). */
function isModuleNotFound(error: unknown): boolean {
  for (let current = error, depth = 0; typeof current === 'object' && current !== null && depth < 5; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return true;
    current = cause;
  }
  return false;
}

/**
 * Makes the package's own connection for a URL: with node-redis (`redis`) if
 * it is installed, else with ioredis. Rejects with a message naming both
 * packages when neither is.
 */
export async function createOwnedConnection(settings: OwnedConnectionSettings): Promise<RedisConnection> {
  let nodeRedis: typeof import('redis') | undefined;
  try {
    nodeRedis = await import('redis');
  } catch (error) {
    if (!isModuleNotFound(error)) throw error;
  }
  if (nodeRedis !== undefined) return ownedNodeRedisConnection(nodeRedis, settings);
  let ioredis: typeof import('ioredis');
  try {
    ioredis = await import('ioredis');
  } catch (error) {
    if (!isModuleNotFound(error)) throw error;
    throw new Error(MISSING_DRIVER_MESSAGE, { cause: error });
  }
  return ownedIoRedisConnection(ioredis, settings);
}

/** Pause between reconnection attempts: 50 ms doubling, at most 500 ms. */
function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** attempt, 500);
}

function ownedNodeRedisConnection(redis: typeof import('redis'), settings: OwnedConnectionSettings): RedisConnection {
  const create = () =>
    redis.createClient({
      url: settings.url,
      // Fail fast while disconnected; the caller waits for `ready` itself and
      // retries within its own deadline.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: settings.connectTimeout,
        reconnectStrategy: reconnectDelay,
        ...(settings.tls === undefined ? {} : { tls: true as const, ...settings.tls }),
      },
    }) as unknown as NodeRedisClientLike;
  return new NodeRedisConnection(create(), create);
}

function ownedIoRedisConnection(ioredis: typeof import('ioredis'), settings: OwnedConnectionSettings): RedisConnection {
  const client = new ioredis.Redis(settings.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    connectTimeout: settings.connectTimeout,
    retryStrategy: (attempt: number) => reconnectDelay(attempt - 1),
    ...(settings.tls === undefined ? {} : { tls: settings.tls }),
  });
  return new IoRedisConnection(client);
}
