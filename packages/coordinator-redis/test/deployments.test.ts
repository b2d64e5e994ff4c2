/**
 * The coordinator against single-server deployments people run: a password
 * (`requirepass`), an ACL user limited to the key prefix, and TLS with a
 * private CA and client certificates; through a `url` and through a client of
 * each package. The README's deployment table points here.
 */
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisCoordinator, type RedisCoordinatorLogger, type RedisCoordinatorOptions } from '../src/index.js';
import { currentTick, expectOneGrant, request, uniqueTask } from './coordination-check.js';
import {
  type AclDeployment,
  type RedisNode,
  type TlsDeployment,
  opensslInstalled,
  redisServerInstalled,
  startAclServer,
  startPasswordServer,
  startTlsServer,
} from './deployments.js';

/** Polls a condition every 20 ms for up to 15 s (there is no event to await for a redial). */
async function until(condition: () => boolean): Promise<boolean> {
  const deadline = Date.now() + 15_000;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

const quiet: RedisCoordinatorLogger = { warn() {}, info() {} };

/** What a restricted user needs: the README's ACL, word for word. */
const PREFIX = 'billing:cron:';
const ACL_COMMANDS = ['+eval', '+evalsha', '+time', '+hmget', '+hincrby', '+hset', '+hdel', '+hgetall'];
const ACL_RULES = [`~${PREFIX}*`, ...ACL_COMMANDS];

const created: RedisCoordinator[] = [];
const closers: (() => unknown)[] = [];

function coordinator(options: RedisCoordinatorOptions): RedisCoordinator {
  const instance = new RedisCoordinator({ logger: quiet, ...options });
  created.push(instance);
  return instance;
}

/** Two instances built by `make`, started. */
async function pair(make: () => RedisCoordinatorOptions): Promise<RedisCoordinator[]> {
  const instances = [coordinator(make()), coordinator(make())];
  await Promise.all(instances.map((instance) => instance.start()));
  return instances;
}

afterEach(async () => {
  await Promise.all(created.splice(0).map((instance) => instance.stop()));
  await Promise.all(closers.splice(0).map(async (close) => close()));
});

describe.skipIf(!redisServerInstalled)('RedisCoordinator deployments', () => {
  describe('requirepass', () => {
    const password = 'p@ss w:rd/"ü';
    let node: RedisNode;
    const url = () => `redis://:${encodeURIComponent(password)}@127.0.0.1:${node.port}`;

    beforeAll(async () => {
      node = await startPasswordServer(password);
    });
    afterAll(async () => {
      await node?.stop();
    });

    it('works with the password in the url (node-redis, made by the coordinator)', async () => {
      await expectOneGrant(await pair(() => ({ url: url() })));
    });

    it('works with the `password` option, unencoded, beside a url without one', async () => {
      await expectOneGrant(await pair(() => ({ url: node.url, password })));
    });

    it('works with a node-redis client and an ioredis client of your own', async () => {
      const nodeRedis = createClient({ url: node.url, password });
      await nodeRedis.connect();
      const ioredis = new Redis({ host: '127.0.0.1', port: node.port, password, lazyConnect: true });
      await ioredis.connect();
      closers.push(() => nodeRedis.close(), () => ioredis.quit());
      const instances = [coordinator({ client: nodeRedis }), coordinator({ client: ioredis })];
      await Promise.all(instances.map((instance) => instance.start()));
      await expectOneGrant(instances);
    });

    it('refuses to start with a wrong password, and grants nothing', async () => {
      const instance = coordinator({ url: node.url, password: 'wrong', gracePeriod: 500 });
      await expect(instance.start()).rejects.toMatchObject({ operation: 'connect', kind: 'permanent', code: 'WRONGPASS' });
      const result = await instance.fireDistributedTaskRequest(request('a', uniqueTask(), currentTick()));
      expect(result.shouldTrigger).toBe(false);
      expect(result.considered).toBe(false);
    });
  });

  describe('an ACL user limited to the key prefix', () => {
    let acl: AclDeployment;
    const url = () => `redis://${acl.user}:${acl.password}@127.0.0.1:${acl.node.port}`;

    beforeAll(async () => {
      acl = await startAclServer(ACL_RULES);
    });
    afterAll(async () => {
      await acl?.stop();
    });

    it(`works with exactly ${ACL_RULES.join(' ')} through a url, node-redis and ioredis`, async () => {
      expect(await acl.admincli(['ACL', 'GETUSER', acl.user])).toContain(`~${PREFIX}*`);
      const nodeRedis = createClient({ url: url() });
      await nodeRedis.connect();
      const ioredis = new Redis({ host: '127.0.0.1', port: acl.node.port, username: acl.user, password: acl.password });
      closers.push(() => nodeRedis.close(), () => ioredis.quit());
      const instances = [
        coordinator({ url: acl.node.url, username: acl.user, password: acl.password, keyPrefix: PREFIX }),
        coordinator({ client: nodeRedis, keyPrefix: PREFIX }),
        coordinator({ client: ioredis, keyPrefix: PREFIX }),
      ];
      await Promise.all(instances.map((instance) => instance.start()));
      const task = uniqueTask();
      const first = await expectOneGrant(instances, task);
      // A second tick: the claim path that finds a previous claim, and a growing fence.
      const second = await expectOneGrant(instances, task, currentTick() + 1000);
      expect(second.fence).toBeGreaterThan(first.fence);
    });

    it('is refused, with NOPERM, a key outside the prefix', async () => {
      const [instance] = await pair(() => ({ url: url(), keyPrefix: 'elsewhere:', gracePeriod: 500 }));
      const result = await instance!.fireDistributedTaskRequest(request('a', uniqueTask(), currentTick()));
      expect(result.shouldTrigger).toBe(false);
      expect(result.reason).toContain('NOPERM this user has no permissions to access one of the keys used as arguments');
    });

    it.each(ACL_COMMANDS)('refuses the claim (or start(), or the outcome), naming the cause, when the user lacks %s', async (permission) => {
      const command = permission.slice(1);
      await acl.admincli(['ACL', 'SETUSER', acl.user, `-${command}`]);
      closers.push(() => acl.admincli(['ACL', 'SETUSER', acl.user, permission]));
      // As after a restart: the script is not cached, so EVALSHA is answered NOSCRIPT and EVAL runs it.
      await acl.admincli(['SCRIPT', 'FLUSH']);
      if (command === 'time') {
        // Without TIME no claim can ever be decided: start() refuses at once.
        const refused = coordinator({ url: url(), keyPrefix: PREFIX });
        await expect(refused.start()).rejects.toMatchObject({ operation: 'connect', code: 'NOPERM' });
        return;
      }
      const [instance] = await pair(() => ({ url: url(), keyPrefix: PREFIX }));
      const task = uniqueTask();
      if (command === 'hincrby') {
        // Only recording the outcome counts with HINCRBY.
        const claimed = request('a', task, currentTick());
        expect((await instance!.fireDistributedTaskRequest(claimed)).shouldTrigger).toBe(true);
        expect(await instance!.recordOutcome({ ...claimed, status: 'succeeded' })).toBe('unavailable');
        return;
      }
      if (command === 'hgetall') {
        const error = await instance!.getTaskState(task).catch((caught: unknown) => caught);
        expect(String(error)).toMatch(/NOPERM this user has no permissions to run the 'hgetall' command/);
        return;
      }
      const claim = await instance!.fireDistributedTaskRequest(request('a', task, currentTick()));
      expect(claim.shouldTrigger).toBe(false);
      expect(claim.considered).toBe(false);
      if (command === 'eval' || command === 'evalsha') {
        expect(claim.reason).toContain(`NOPERM this user has no permissions to run the '${command}' command`);
      } else {
        // Inside a script Redis 7.0 names the script and its line, not the command.
        expect(claim.reason).toMatch(/ERR The user executing the script can't run this command or subcommand script: [0-9a-f]{40}, on @user_script:\d+/);
      }
    });
  });

  describe.skipIf(!opensslInstalled)('TLS with a private CA and client certificates', () => {
    let deployment: TlsDeployment;

    beforeAll(async () => {
      deployment = await startTlsServer();
    });
    afterAll(async () => {
      await deployment?.stop();
    });

    it('works through a rediss:// url with `tls`, and redials after the server restarts', async () => {
      const instances = await pair(() => ({ url: deployment.url, tls: deployment.clientTls }));
      const before = await expectOneGrant(instances);
      await deployment.node.kill();
      expect(await until(() => instances.every((instance) => !instance.available))).toBe(true);
      await deployment.node.launch();
      // The coordinator dials again with the same TLS settings; the first command that succeeds ends the outage.
      await vi.waitFor(() => Promise.all(instances.map((instance) => instance.getTaskState('probe'))), {
        timeout: 15_000,
        interval: 50,
      });
      expect(instances.every((instance) => instance.available)).toBe(true);
      const after = await expectOneGrant(instances);
      expect(after.submitterId).toMatch(/^instance-/);
      expect(before.submitterId).toMatch(/^instance-/);
    });

    it('works with a node-redis client and an ioredis client of your own', async () => {
      const { url, clientTls } = deployment;
      const nodeRedis = createClient({ url, socket: { tls: true, ...clientTls } });
      await nodeRedis.connect();
      const ioredis = new Redis(url, { tls: clientTls });
      closers.push(() => nodeRedis.close(), () => ioredis.quit());
      const instances = [coordinator({ client: nodeRedis }), coordinator({ client: ioredis })];
      await Promise.all(instances.map((instance) => instance.start()));
      await expectOneGrant(instances);
    });

    it('grants nothing when the server cannot be verified (no CA given)', async () => {
      const { cert, key } = deployment.clientTls;
      const [instance] = await pair(() => ({ url: deployment.url, tls: { cert, key }, gracePeriod: 500 }));
      const result = await instance!.fireDistributedTaskRequest(request('a', uniqueTask(), currentTick()));
      expect(result.shouldTrigger).toBe(false);
      expect(result.considered).toBe(false);
    });
  });
});
