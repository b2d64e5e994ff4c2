import { type Server, type Socket, createConnection, createServer } from 'node:net';
import { freePort } from './redis-server.js';

interface Pair {
  client: Socket;
  upstream: Socket;
}

/**
 * A loopback TCP proxy in front of a Redis server, for injecting network
 * faults: `reset()` cuts every connection with an RST, `blackhole(ms)` stops
 * every byte in both directions (as a dropped route would; TCP delivers the
 * held bytes once the route is back) and holds new connections meanwhile,
 * `latency` delays every chunk (a slow link), and `retarget(port)` sends new
 * connections to another server while open ones stay where they are (a DNS
 * name or virtual IP moved to a new primary).
 */
export class TcpProxy {
  readonly port: number;
  #targetPort: number;
  /** Delay added to every chunk in each direction, ms. */
  latency = 0;
  readonly #server: Server;
  readonly #pairs = new Set<Pair>();
  #accepted = 0;
  #holdUntil = 0;
  #held: (() => void)[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  private constructor(port: number, targetPort: number) {
    this.port = port;
    this.#targetPort = targetPort;
    this.#server = createServer((client) => this.#accept(client));
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(await freePort(), targetPort);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(proxy.port, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get connections(): number {
    return this.#pairs.size;
  }

  /** How many connections clients opened so far. */
  get accepted(): number {
    return this.#accepted;
  }

  #accept(client: Socket): void {
    this.#accepted++;
    client.setNoDelay(true);
    client.on('error', () => undefined);
    if (Date.now() < this.#holdUntil) {
      client.pause();
      this.#held.push(() => this.#connect(client));
      return;
    }
    this.#connect(client);
  }

  #connect(client: Socket): void {
    if (client.destroyed) return;
    const upstream = createConnection({ host: '127.0.0.1', port: this.#targetPort });
    upstream.setNoDelay(true);
    const pair: Pair = { client, upstream };
    this.#pairs.add(pair);
    const close = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', close);
    upstream.on('close', close);
    client.on('close', close);
    client.on('data', (chunk: Buffer) => this.#forward(upstream, chunk));
    upstream.on('data', (chunk: Buffer) => this.#forward(client, chunk));
    client.resume();
    if (Date.now() < this.#holdUntil) this.#pausePair(pair);
  }

  #forward(to: Socket, chunk: Buffer): void {
    if (this.latency <= 0) {
      if (!to.destroyed) to.write(chunk);
      return;
    }
    // Timers of equal delay fire in order, so the byte stream stays in order.
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, this.latency);
  }

  #pausePair(pair: Pair): void {
    pair.client.pause();
    pair.upstream.pause();
  }

  /** Sends new connections to another port; open connections keep theirs. */
  retarget(port: number): void {
    this.#targetPort = port;
  }

  /** Cuts every open connection with a TCP reset. */
  reset(): void {
    for (const pair of [...this.#pairs]) {
      pair.client.resetAndDestroy();
      pair.upstream.destroy();
      this.#pairs.delete(pair);
    }
  }

  /** Holds every byte (and every new connection) for `ms`, then lets them through. */
  blackhole(ms: number): Promise<void> {
    this.#holdUntil = Date.now() + ms;
    for (const pair of this.#pairs) this.#pausePair(pair);
    return new Promise((resolve) => {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#holdUntil = 0;
        for (const pair of this.#pairs) {
          if (pair.client.destroyed || pair.upstream.destroyed) continue;
          pair.client.resume();
          pair.upstream.resume();
        }
        const held = this.#held;
        this.#held = [];
        for (const connect of held) connect();
        resolve();
      }, ms);
    });
  }

  async close(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.reset();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
