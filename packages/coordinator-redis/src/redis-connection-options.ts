import type { ConnectionOptions as NodeTlsOptions } from 'node:tls';
import { describeValue, invalidOption } from '@taskbuffer/core';
import { type RedisClientLike, checkClient } from './redis-clients.js';

/**
 * TLS settings for a `rediss://` connection: Node's `tls.connect()` options,
 * passed on to whichever client package makes the connection.
 *
 * @example
 * { ca: readFileSync('ca.pem'), cert: readFileSync('client.pem'), key: readFileSync('client-key.pem') }
 */
export type RedisTlsOptions = Omit<NodeTlsOptions, 'host' | 'port' | 'path' | 'socket' | 'timeout' | 'lookup'>;

/**
 * How to reach Redis: a `url` (the package makes, redials and closes its own
 * connection, with `redis` or else `ioredis`, whichever is installed) or a
 * `client` you made yourself. Shared by everything in taskbuffer that talks to
 * Redis.
 */
export interface RedisConnectionOptions {
  /**
   * The Redis server to connect to: `redis://[[user]:password@]host[:port][/db]`,
   * or `rediss://…` for TLS.
   * @default 'redis://127.0.0.1:6379'
   * @example 'rediss://default:secret@redis.example.com:6380'
   */
  url?: string;
  /**
   * ACL user name; overrides the one in `url`. Only with `url`.
   * @example 'taskbuffer'
   */
  username?: string;
  /**
   * Password (`requirepass`, or the ACL user's); overrides the one in `url`,
   * so it need not be URL-encoded there. Only with `url`.
   */
  password?: string;
  /**
   * TLS settings for a `rediss://` URL: a private CA (`ca`), a client
   * certificate (`cert`, `key`), `servername`. Without it a `rediss://` URL
   * trusts Node's default CAs. Only with a `rediss://` url.
   * @example { ca: readFileSync('/etc/redis/ca.pem') }
   */
  tls?: RedisTlsOptions;
  /**
   * A client you already have: node-redis (`createClient()`, `createCluster()`,
   * `createSentinel()`) or ioredis (`new Redis()`, `new Cluster()`, `new Redis({
   * sentinels })`). Give `url` or `client`, not both.
   */
  client?: RedisClientLike;
}

/** Connection options, checked, with their defaults filled in. */
export type ResolvedConnectionOptions =
  | { kind: 'client'; client: RedisClientLike }
  | { kind: 'url'; url: string; tls: RedisTlsOptions | undefined };

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Checks `url`, `username`, `password`, `tls` and `client`, throwing a
 * `TypeError` naming the option, and folds the credentials into the URL.
 */
export function resolveConnectionOptions(options: RedisConnectionOptions): ResolvedConnectionOptions {
  const { url, username, password, tls, client } = options;
  if (url !== undefined && (typeof url !== 'string' || !/^rediss?:\/\/[^/]/.test(url))) {
    invalidOption('url', 'a redis:// or rediss:// URL', url);
  }
  if (username !== undefined && (typeof username !== 'string' || username === '')) {
    invalidOption('username', 'a non-empty string', username);
  }
  if (password !== undefined && typeof password !== 'string') {
    // Never echo what may be a secret.
    throw new TypeError(`Expected \`password\` to be a string, got a value of type ${typeof password}`);
  }
  if (tls !== undefined && (typeof tls !== 'object' || tls === null || Array.isArray(tls))) {
    invalidOption('tls', 'an object of TLS options (ca, cert, key, servername, …)', tls);
  }
  if (client !== undefined) {
    checkClient(client);
    for (const [name, value] of [['url', url], ['username', username], ['password', password], ['tls', tls]] as const) {
      if (value === undefined) continue;
      const shown = name === 'url' ? ` (url ${describeValue(url)})` : '';
      throw new TypeError(
        `Expected only one of \`${name}\` and \`client\`, got both${shown}: \`${name}\` configures a connection the package makes itself; set it on your client instead`,
      );
    }
    return { kind: 'client', client };
  }
  let resolved: URL;
  try {
    resolved = new URL(url ?? DEFAULT_REDIS_URL);
  } catch {
    invalidOption('url', 'a redis:// or rediss:// URL', url);
  }
  if (tls !== undefined && resolved.protocol !== 'rediss:') {
    throw new TypeError(
      `Expected \`url\` to start with rediss:// when \`tls\` is given, got ${describeValue(url ?? DEFAULT_REDIS_URL)}`,
    );
  }
  if (username !== undefined) resolved.username = username;
  if (password !== undefined) resolved.password = password;
  return { kind: 'url', url: resolved.href, tls };
}
