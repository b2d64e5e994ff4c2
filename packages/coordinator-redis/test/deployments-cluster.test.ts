/**
 * The coordinator on a three-primary Redis Cluster, through a node-redis
 * `createCluster()` client and an ioredis `Cluster`. Each claim touches one
 * key, so the client only has to send it to the primary that owns the key.
 * The README's deployment table points here.
 */
import { Cluster } from 'ioredis';
import { createClient, createCluster } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisCoordinator, type RedisCoordinatorLogger, type RedisCoordinatorOptions } from '../src/index.js';
import { currentTick, expectOneGrant, request, uniqueTask } from './coordination-check.js';
import { type ClusterDeployment, redisServerInstalled, startCluster } from './deployments.js';

const quiet: RedisCoordinatorLogger = { warn() {}, info() {} };

describe.skipIf(!redisServerInstalled)('RedisCoordinator on a Redis Cluster', () => {
  let cluster: ClusterDeployment;
  const created: RedisCoordinator[] = [];
  const closers: (() => unknown)[] = [];

  function coordinator(options: RedisCoordinatorOptions): RedisCoordinator {
    const instance = new RedisCoordinator({ logger: quiet, ...options });
    created.push(instance);
    return instance;
  }

  /** Task names whose keys live on every primary, so that routing matters. */
  function tasksOnEveryPrimary(prefix = 'taskbuffer:coordinator:'): string[] {
    const byOwner = new Map<number, string>();
    while (byOwner.size < cluster.nodes.length) {
      const task = uniqueTask();
      const owner = cluster.ownerOf(`${prefix}${task}`);
      if (!byOwner.has(owner)) byOwner.set(owner, task);
    }
    return [...byOwner.values()];
  }

  async function expectCoordinated(instances: RedisCoordinator[]): Promise<void> {
    await Promise.all(instances.map((instance) => instance.start()));
    for (const task of tasksOnEveryPrimary()) await expectOneGrant(instances, task);
  }

  beforeAll(async () => {
    cluster = await startCluster(3);
  });

  afterEach(async () => {
    await Promise.all(created.splice(0).map((instance) => instance.stop()));
    await Promise.all(closers.splice(0).map(async (close) => close()));
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('works with node-redis createCluster() clients, connected by you', async () => {
    const clients = [0, 1].map(() => createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${cluster.nodes[0]!.port}` }] }));
    await Promise.all(clients.map((client) => client.connect()));
    closers.push(...clients.map((client) => () => client.close()));
    await expectCoordinated(clients.map((client) => coordinator({ client })));
    // A client you connected stays yours.
    await Promise.all(created.splice(0).map((instance) => instance.stop()));
    expect(clients.every((client) => client.isOpen)).toBe(true);
  });

  it('connects a node-redis createCluster() client passed unconnected, and closes it on stop()', async () => {
    const client = createCluster({ rootNodes: cluster.rootNodes.map(({ port }) => ({ url: `redis://127.0.0.1:${port}` })) });
    const other = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${cluster.nodes[1]!.port}` }] });
    await other.connect();
    closers.push(() => other.close());
    const instance = coordinator({ client });
    await expectCoordinated([instance, coordinator({ client: other })]);
    expect(instance.available).toBe(true);
    await instance.stop();
    expect(client.isOpen).toBe(false);
  });

  it('works with ioredis Cluster clients', async () => {
    const clients = [0, 1].map(() => new Cluster(cluster.rootNodes));
    closers.push(...clients.map((client) => () => client.quit()));
    await expectCoordinated(clients.map((client) => coordinator({ client })));
  });

  it('needs a cluster client: a client of one node is answered MOVED for keys on the others', async () => {
    const client = createClient({ url: `redis://127.0.0.1:${cluster.nodes[0]!.port}` });
    await client.connect();
    closers.push(() => client.close());
    const instance = coordinator({ client });
    await instance.start();
    const elsewhere = tasksOnEveryPrimary().find(
      (task) => cluster.ownerOf(`taskbuffer:coordinator:${task}`) !== cluster.nodes[0]!.port,
    )!;
    const result = await instance.fireDistributedTaskRequest(request('a', elsewhere, currentTick()));
    expect(result.shouldTrigger).toBe(false);
    expect(result.reason).toMatch(/MOVED \d+ 127\.0\.0\.1:\d+/);
  });

  it('lets node-redis and ioredis cluster clients coordinate with each other', async () => {
    const nodeRedis = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${cluster.nodes[2]!.port}` }] });
    await nodeRedis.connect();
    const ioredis = new Cluster(cluster.rootNodes);
    closers.push(() => nodeRedis.close(), () => ioredis.quit());
    await expectCoordinated([coordinator({ client: nodeRedis }), coordinator({ client: ioredis })]);
  });
});
