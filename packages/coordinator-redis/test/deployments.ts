/**
 * Redis deployments as users run them, started by the tests on loopback ports
 * in temporary directories: a server with a password, one with an ACL user,
 * one that speaks only TLS (certificates made with `openssl` at test time), a
 * three-primary Cluster, and a primary with a replica watched by a Sentinel.
 * Tests never touch a server they did not start.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Socket, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { freePort, redisServerInstalled } from './redis-server.js';

/** Whether `openssl` can be run here, for the TLS deployment. */
export const opensslInstalled: boolean = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;

if (!opensslInstalled) {
  console.warn('openssl is not installed: the TLS deployment tests are skipped (apt-get install -y openssl)');
}

export { redisServerInstalled };

/** Certificates for a TLS deployment, as PEM text. */
export interface Certificates {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

/** TLS options for a client (and for the readiness probe). */
export interface ClientTls {
  ca: string;
  cert?: string;
  key?: string;
}

interface NodeOptions {
  /** Configuration lines; `port`, `bind`, `dir` and persistence are added. */
  config?: string[];
  /** Start with `--sentinel`. */
  sentinel?: boolean;
  /** The port speaks TLS only (`port 0` + `tls-port`); clients must show a certificate if `authClients`. */
  tls?: { certificates: Certificates; authClients: boolean };
}

/** One `redis-server` (or Sentinel) process with a configuration file of its own. */
export class RedisNode {
  readonly port: number;
  readonly dir: string;
  readonly #options: NodeOptions;
  #process: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #output = '';

  private constructor(port: number, dir: string, options: NodeOptions) {
    this.port = port;
    this.dir = dir;
    this.#options = options;
  }

  /** Starts a node on a free loopback port, retrying on another port if that one was taken meanwhile. */
  static async start(options: NodeOptions = {}): Promise<RedisNode> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const node = new RedisNode(await freePort(), mkdtempSync(join(tmpdir(), 'taskbuffer-deploy-')), options);
      try {
        await node.launch();
        return node;
      } catch (error) {
        lastError = error;
        await node.stop();
      }
    }
    throw lastError;
  }

  get url(): string {
    return `${this.#options.tls ? 'rediss' : 'redis'}://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#process !== undefined && this.#process.exitCode === null && this.#process.signalCode === null;
  }

  /** Starts (or restarts) the process and resolves once it answers PING (or asks for a password). */
  async launch(): Promise<void> {
    const { tls } = this.#options;
    const lines = [
      `bind 127.0.0.1`,
      `dir ${this.dir}`,
      ...(tls
        ? [
            'port 0',
            `tls-port ${this.port}`,
            `tls-cert-file ${tls.certificates.serverCertFile}`,
            `tls-key-file ${tls.certificates.serverKeyFile}`,
            `tls-ca-cert-file ${tls.certificates.caFile}`,
            `tls-auth-clients ${tls.authClients ? 'yes' : 'no'}`,
          ]
        : [`port ${this.port}`]),
      // No delay before a replica's first sync: the Sentinel deployment waits for it.
      ...(this.#options.sentinel
        ? []
        : ['save ""', 'appendonly no', 'maxmemory-policy noeviction', 'repl-diskless-sync-delay 0']),
      ...(this.#options.config ?? []),
    ];
    const file = join(this.dir, this.#options.sentinel ? 'sentinel.conf' : 'redis.conf');
    // A Sentinel rewrites its file with what it learned; keep that across a restart.
    if (!this.#options.sentinel || !this.running) writeFileSync(file, `${lines.join('\n')}\n`);
    const child = spawn('redis-server', [file, ...(this.#options.sentinel ? ['--sentinel'] : [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#process = child;
    this.#output = '';
    const collect = (chunk: Buffer) => {
      if (this.#output.length < 20_000) this.#output += chunk.toString();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`redis-server exited on port ${this.port}: ${this.#output}`);
      const certificates = tls?.certificates;
      const clientTls = certificates && { ca: certificates.ca, cert: certificates.clientCert, key: certificates.clientKey };
      if (await probe(this.port, clientTls)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`redis-server did not answer on port ${this.port} within 15 s: ${this.#output}`);
  }

  /** Runs `redis-cli` against this node and resolves with its output. */
  cli(args: string[], auth: { user?: string; password?: string } = {}): Promise<string> {
    const certificates = this.#options.tls?.certificates;
    return redisCli(this.port, args, { ...auth, tls: certificates });
  }

  /** The server's log so far, for a failing test's message. */
  get output(): string {
    return this.#output;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    this.#process?.kill(signal);
    await this.#exited;
  }

  /** Stops the process and removes its directory. */
  async stop(): Promise<void> {
    await this.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Resolves true once the server answers PING with PONG, or says it wants a password first. */
function probe(port: number, tls: ClientTls | undefined, timeout = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    let socket: Socket;
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    if (tls) {
      socket = tlsConnect({ host: '127.0.0.1', port, ca: tls.ca, cert: tls.cert, key: tls.key }, () =>
        socket.write('PING\r\n'),
      );
    } else {
      socket = createConnection({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    }
    socket.setTimeout(timeout, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}

/** Runs `redis-cli` on a loopback port; the password goes through the environment, not the command line. */
export function redisCli(
  port: number,
  args: string[],
  options: { user?: string; password?: string; tls?: Pick<Certificates, 'caFile' | 'clientCertFile' | 'clientKeyFile'> } = {},
): Promise<string> {
  const flags = ['-h', '127.0.0.1', '-p', String(port)];
  if (options.user !== undefined) flags.push('--user', options.user);
  if (options.tls) {
    flags.push('--tls', '--cacert', options.tls.caFile);
    flags.push('--cert', options.tls.clientCertFile, '--key', options.tls.clientKeyFile);
  }
  const env = { ...process.env, ...(options.password === undefined ? {} : { REDISCLI_AUTH: options.password }) };
  return new Promise((resolve, reject) => {
    execFile('redis-cli', [...flags, ...args], { env, timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`redis-cli ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout.trim());
    });
  });
}

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, timeout: 30_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve();
    });
  });
}

/**
 * A private CA, a server certificate for 127.0.0.1 and a client certificate,
 * all made by `openssl` (P-256 keys, valid for a day).
 */
export async function makeCertificates(): Promise<Certificates> {
  const dir = mkdtempSync(join(tmpdir(), 'taskbuffer-tls-'));
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=taskbuffer test CA'], dir);
  for (const [name, subject, extension] of [
    ['server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'],
    ['client', '/CN=taskbuffer-client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    writeFileSync(join(dir, `${name}.ext`), `${extension}\n`);
    await run('openssl', ['req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
    await run(
      'openssl',
      ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.crt`],
      dir,
    );
  }
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  return {
    dir,
    ca: read('ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
    caFile: join(dir, 'ca.crt'),
    serverCertFile: join(dir, 'server.crt'),
    serverKeyFile: join(dir, 'server.key'),
    clientCertFile: join(dir, 'client.crt'),
    clientKeyFile: join(dir, 'client.key'),
  };
}

/** A server that speaks only TLS and requires a client certificate signed by the private CA. */
export interface TlsDeployment {
  node: RedisNode;
  certificates: Certificates;
  /** `rediss://127.0.0.1:<port>` */
  url: string;
  /** What a client needs: the CA and the client certificate. */
  clientTls: { ca: string; cert: string; key: string };
  stop(): Promise<void>;
}

export async function startTlsServer(): Promise<TlsDeployment> {
  const certificates = await makeCertificates();
  const clientTls = { ca: certificates.ca, cert: certificates.clientCert, key: certificates.clientKey };
  const node = await RedisNode.start({ tls: { certificates, authClients: true } });
  return {
    node,
    certificates,
    url: node.url,
    clientTls,
    async stop() {
      await node.stop();
      rmSync(certificates.dir, { recursive: true, force: true });
    },
  };
}

/** A server with `requirepass`: the `default` user needs the password. */
export async function startPasswordServer(password: string): Promise<RedisNode> {
  return RedisNode.start({ config: [`requirepass "${password.replace(/["\\]/g, '\\$&')}"`] });
}

/**
 * A server whose `default` user is off, with an `admin` user for the test's
 * own checks and a restricted user with the given rules (e.g.
 * `['~taskbuffer:*', '+eval', …]`).
 */
export interface AclDeployment {
  node: RedisNode;
  user: string;
  password: string;
  admin: { user: string; password: string };
  /** Runs `redis-cli` as the admin user. */
  admincli(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startAclServer(rules: string[]): Promise<AclDeployment> {
  const user = 'taskbuffer';
  const password = 'restricted-secret';
  const admin = { user: 'admin', password: 'admin-secret' };
  const node = await RedisNode.start({
    config: [
      'user default off',
      `user ${admin.user} on >${admin.password} ~* &* +@all`,
      `user ${user} on >${password} resetkeys resetchannels -@all ${rules.join(' ')}`,
    ],
  });
  return {
    node,
    user,
    password,
    admin,
    admincli: (args) => node.cli(args, admin),
    stop: () => node.stop(),
  };
}

/** Three primaries, no replicas, slots split evenly by `redis-cli --cluster create`. */
export interface ClusterDeployment {
  nodes: RedisNode[];
  /** `[{ host, port }]` of every primary. */
  rootNodes: { host: string; port: number }[];
  /** The port of the primary that owns a key (the slots do not move during a test). */
  ownerOf(key: string): number;
  stop(): Promise<void>;
}

export async function startCluster(size = 3): Promise<ClusterDeployment> {
  const nodes: RedisNode[] = [];
  try {
    for (let index = 0; index < size; index++) {
      // The cluster bus gets a free port of its own, not port + 10000.
      const busPort = await freePort();
      nodes.push(
        await RedisNode.start({
          config: ['cluster-enabled yes', 'cluster-config-file nodes.conf', 'cluster-node-timeout 5000', `cluster-port ${busPort}`],
        }),
      );
    }
    const first = nodes[0]!;
    await first.cli(['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-yes']);
    // `--cluster create` returns once the configuration is consistent; wait
    // until every node also says the cluster is ok.
    const deadline = Date.now() + 20_000;
    for (const node of nodes) {
      while (!(await node.cli(['CLUSTER', 'INFO'])).includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error(`cluster on ${node.port} not ok within 20 s`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw error;
  }
  // `<id> <ip:port@bus> <flags> <primary> <ping> <pong> <epoch> <link> <slot or range>…`
  const ranges: { start: number; end: number; port: number }[] = [];
  for (const line of (await nodes[0]!.cli(['CLUSTER', 'NODES'])).split('\n')) {
    const fields = line.split(' ');
    if (!fields[2]?.includes('master')) continue;
    const port = Number(/:(\d+)@/.exec(fields[1] ?? '')?.[1]);
    for (const range of fields.slice(8)) {
      const [start, end = start] = range.split('-').map(Number);
      ranges.push({ start: start!, end: end!, port });
    }
  }
  return {
    nodes,
    rootNodes: nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
    ownerOf(key) {
      const slot = keySlot(key);
      const owner = ranges.find((range) => slot >= range.start && slot <= range.end);
      if (owner === undefined) throw new Error(`no primary owns slot ${slot}`);
      return owner.port;
    },
    async stop() {
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
}

/** The cluster slot of a key: CRC16 (XMODEM) of the key, or of its `{hash tag}`, mod 16384. */
export function keySlot(key: string): number {
  let bytes = Buffer.from(key);
  const open = bytes.indexOf('{');
  if (open !== -1) {
    const close = bytes.indexOf('}', open + 1);
    if (close > open + 1) bytes = bytes.subarray(open + 1, close);
  }
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}


/** A primary, one replica and one Sentinel (quorum 1) that watches them as `name`. */
export interface SentinelDeployment {
  name: string;
  primary: RedisNode;
  replica: RedisNode;
  sentinel: RedisNode;
  sentinels: { host: string; port: number }[];
  /** The port of the node the Sentinel currently names as primary. */
  primaryPort(): Promise<number>;
  /**
   * Waits until the replica has caught up and the Sentinel knows it, then runs
   * `SENTINEL FAILOVER` and waits until the other node is the primary (and
   * the old one follows it). Resolves with the new primary's port.
   */
  failover(): Promise<number>;
  stop(): Promise<void>;
}

export async function startSentinel(name = 'taskbuffer'): Promise<SentinelDeployment> {
  const started: RedisNode[] = [];
  try {
    const primary = await RedisNode.start();
    started.push(primary);
    const replica = await RedisNode.start({ config: [`replicaof 127.0.0.1 ${primary.port}`] });
    started.push(replica);
    const sentinel = await RedisNode.start({
      sentinel: true,
      config: [
        `sentinel monitor ${name} 127.0.0.1 ${primary.port} 1`,
        `sentinel down-after-milliseconds ${name} 2000`,
        `sentinel failover-timeout ${name} 10000`,
      ],
    });
    started.push(sentinel);
    const byPort = new Map([primary, replica].map((node) => [node.port, node]));
    const primaryPort = async () =>
      Number((await sentinel.cli(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name])).split('\n')[1]);
    return {
      name,
      primary,
      replica,
      sentinel,
      sentinels: [{ host: '127.0.0.1', port: sentinel.port }],
      primaryPort,
      async failover() {
        const from = await primaryPort();
        const to = from === primary.port ? replica : primary;
        const deadline = Date.now() + 30_000;
        // A Sentinel reconfiguring a node kills its client connections, redis-cli's too: count that as "not yet".
        const until = async (what: string, check: () => Promise<boolean>) => {
          while (!(await check().catch(() => false))) {
            if (Date.now() > deadline) throw new Error(`Sentinel deployment: ${what} did not happen within 30 s`);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        };
        // The replica holds everything the primary acknowledged, so no claim is lost.
        await until('replica in sync', async () => {
          const info = await to.cli(['INFO', 'replication']);
          const offset = /master_repl_offset:(\d+)/.exec(await byPort.get(from)!.cli(['INFO', 'replication']))?.[1];
          return info.includes('master_link_status:up') && offset !== undefined && info.includes(`slave_repl_offset:${offset}`);
        });
        await until('Sentinel sees the replica', async () => {
          const replicas = await sentinel.cli(['SENTINEL', 'REPLICAS', name]);
          return replicas.includes(String(to.port)) && !/s_down|disconnected/.test(replicas);
        });
        await until('SENTINEL FAILOVER accepted', async () => {
          const reply = await sentinel.cli(['SENTINEL', 'FAILOVER', name]).catch((error: Error) => error.message);
          return reply === 'OK';
        });
        await until('the replica promoted', async () => (await primaryPort()) === to.port && (await to.cli(['ROLE'])).startsWith('master'));
        await until('the old primary following', async () => (await byPort.get(from)!.cli(['ROLE'])).startsWith('slave'));
        return to.port;
      },
      async stop() {
        await Promise.all(started.map((node) => node.stop()));
      },
    };
  } catch (error) {
    await Promise.all(started.map((node) => node.stop()));
    throw error;
  }
}
