import { Cluster, Redis } from 'ioredis';
import { createClient, createClientPool, createCluster, createSentinel } from 'redis';
import { describe, expect, it } from 'vitest';
import { checkClient, classifyClient, routingKey } from './redis-clients.js';
import { resolveConnectionOptions } from './redis-connection-options.js';
import { RedisCoordinator, type RedisCoordinatorOptions } from './redis-coordinator.js';

// Made, never connected: telling clients apart needs no server.
const clients = {
  'node-redis': () => createClient(),
  'node-redis-cluster': () => createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:7000' }] }),
  'node-redis-sentinel': () => createSentinel({ name: 'primary', sentinelRootNodes: [{ host: '127.0.0.1', port: 26379 }] }),
  ioredis: () => new Redis({ lazyConnect: true }),
  'ioredis-cluster': () => new Cluster([{ host: '127.0.0.1', port: 7000 }], { lazyConnect: true }),
  'ioredis-sentinel': () => new Redis({ sentinels: [{ host: '127.0.0.1', port: 26379 }], name: 'primary', lazyConnect: true }),
} as const;

describe('classifyClient', () => {
  it.each(Object.entries(clients))('tells a %s client', (kind, make) => {
    expect(classifyClient(make())).toEqual({ kind });
    expect(() => new RedisCoordinator({ client: make() })).not.toThrow();
  });

  it.each([
    ['a node-redis client pool', () => createClientPool(), /got a node-redis client pool \(createClientPool\(\)\): pass a client from createClient\(\), or give `url`/],
    [
      'a client leased from a node-redis Sentinel',
      () => ({ sendCommand: async () => null, release: () => undefined, isOpen: true, isReady: true }),
      /got a client leased from a node-redis Sentinel \(sentinel.acquire\(\)\): pass the Sentinel client itself/,
    ],
    ['a Map', () => new Map(), /, got an instance of Map$/],
    ['an object with other methods', () => ({ get: () => null, set: () => null }), /, got an object with `get`, `set`$/],
    ['a URL string', () => 'redis://127.0.0.1', /, got `"redis:\/\/127.0.0.1"` \(string\)$/],
  ])('refuses %s in the constructor with a TypeError saying what to use', (_name, make, message) => {
    const construct = () => new RedisCoordinator({ client: make() } as unknown as RedisCoordinatorOptions);
    expect(construct).toThrow(TypeError);
    expect(construct).toThrow(
      /^Expected `client` to be a node-redis client \(createClient\(\), createCluster\(\) or createSentinel\(\)\) or an ioredis client \(new Redis\(\), new Cluster\(\) or new Redis\(\{ sentinels \}\)\)/,
    );
    expect(construct).toThrow(message);
    expect(() => checkClient(make())).toThrow(message);
  });
});

describe('routingKey', () => {
  it.each([
    [['EVALSHA', 'abc', '1', 'prefix:task', 'rid'], 'prefix:task'],
    [['EVAL', 'return 1', '1', 'prefix:task'], 'prefix:task'],
    [['EVAL', 'return 1', '0'], undefined],
    [['HGETALL', 'prefix:task'], 'prefix:task'],
    [['TIME'], undefined],
    [['ping'], undefined],
  ])('routes %j by %j', (args, key) => {
    expect(routingKey(args)).toBe(key);
  });
});

describe('resolveConnectionOptions', () => {
  it('defaults to the local server', () => {
    expect(resolveConnectionOptions({})).toEqual({ kind: 'url', url: 'redis://127.0.0.1:6379', tls: undefined });
  });

  it('puts `username` and `password` into the url, encoded', () => {
    const resolved = resolveConnectionOptions({ url: 'redis://u:old@redis.example.com:6380/2', username: 'cron', password: 'p@ss w:rd/' });
    expect(resolved).toEqual({ kind: 'url', url: 'redis://cron:p%40ss%20w%3Ard%2F@redis.example.com:6380/2', tls: undefined });
  });

  it('takes `tls` with a rediss:// url', () => {
    const tls = { ca: 'CA', cert: 'CERT', key: 'KEY' };
    expect(resolveConnectionOptions({ url: 'rediss://redis.example.com:6380', tls })).toEqual({
      kind: 'url',
      url: 'rediss://redis.example.com:6380',
      tls,
    });
  });

  it.each([
    [{ url: 'redis://127.0.0.1:6379', tls: { ca: 'CA' } }, 'Expected `url` to start with rediss:// when `tls` is given, got `"redis://127.0.0.1:6379"` (string)'],
    [{ tls: { ca: 'CA' } }, 'Expected `url` to start with rediss:// when `tls` is given, got `"redis://127.0.0.1:6379"` (string)'],
    [{ tls: true }, 'Expected `tls` to be an object of TLS options (ca, cert, key, servername, …), got `true` (boolean)'],
    [{ username: '' }, 'Expected `username` to be a non-empty string, got `""` (string)'],
    [{ password: 12345 }, 'Expected `password` to be a string, got a value of type number'],
    [{ url: 'redis://' }, 'Expected `url` to be a redis:// or rediss:// URL, got `"redis://"` (string)'],
    [{ client: createClient(), url: 'redis://127.0.0.1' }, 'Expected only one of `url` and `client`, got both (url `"redis://127.0.0.1"` (string))'],
    [{ client: createClient(), password: 'secret' }, 'Expected only one of `password` and `client`, got both: `password` configures a connection the package makes itself; set it on your client instead'],
    [{ client: createClient(), tls: {} }, 'Expected only one of `tls` and `client`, got both'],
  ])('refuses %j with a TypeError naming the option', (options, message) => {
    expect(() => resolveConnectionOptions(options as never)).toThrow(TypeError);
    expect(() => resolveConnectionOptions(options as never)).toThrow(message);
    expect(() => new RedisCoordinator(options as never)).toThrow(message);
  });
});
