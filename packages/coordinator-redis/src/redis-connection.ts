import type { LuaScript } from './claim-script.js';

type Listener = (...args: any[]) => void;

/**
 * The part of a node-redis client (`redis` 5 or 6, `createClient()`) the
 * coordinator uses. Cluster and Sentinel clients are adapted to it in
 * `redis-clients.ts`, which also tells the kinds apart.
 */
export interface NodeRedisClientLike {
  sendCommand(args: string[]): Promise<unknown>;
  readonly isReady: boolean;
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  on(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}

/** The part of an ioredis client (`new Redis()`) the coordinator uses. */
export interface IoRedisClientLike {
  call(command: string, args: (string | number)[]): Promise<unknown>;
  readonly status: string;
  connect(): Promise<void>;
  on(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}

/** What the coordinator needs of a connection, whichever client is behind it. */
export interface RedisConnection {
  readonly ready: boolean;
  /** Runs a script by SHA, loading it with `EVAL` when the server does not know it. */
  evalScript(script: LuaScript, keys: string[], args: string[]): Promise<unknown>;
  /** Sends one raw command. */
  command(args: string[]): Promise<unknown>;
  /** Starts connecting; never rejects (failures arrive as `error` events). */
  open(): void;
  /**
   * Closes the connection if this coordinator opened it (or created it): waits
   * up to `graceMs` for commands still under way, then cuts the socket. A
   * client you connected yourself is left open. Afterwards `recycle` does
   * nothing.
   */
  close(graceMs?: number): Promise<void>;
  /** Listens to `ready` and `error`; returns a function that stops listening. */
  watch(onReady: () => void, onError: (error: unknown) => void): () => void;
  /**
   * Drops a connection that stopped answering (or reaches a server that
   * cannot take writes any more) and dials a new one, if the coordinator owns
   * the client (a client you passed is left alone).
   * `epoch` is the `epoch` read when the command was sent, so that several
   * commands timing out together dial one new connection, not one each.
   * Returns whether it did.
   */
  recycle(epoch: number): boolean;
  /** Grows each time the connection is recycled. */
  readonly epoch: number;
  /** Whether `recycle` can dial a new connection (the coordinator created the client). */
  readonly redialable: boolean;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

abstract class ScriptRunner {
  abstract command(args: string[]): Promise<unknown>;

  async evalScript(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.command(['EVALSHA', script.sha, ...tail]);
    } catch (error) {
      // After a restart (or on a new server) the script cache is empty; EVAL
      // runs the script and caches it for the next EVALSHA.
      if (!isNoScript(error)) throw error;
      return await this.command(['EVAL', script.source, ...tail]);
    }
  }
}

export class NodeRedisConnection extends ScriptRunner implements RedisConnection {
  #client: NodeRedisClientLike;
  /** Makes a fresh client; only for a client the coordinator owns. */
  readonly #create: (() => NodeRedisClientLike) | undefined;
  #opened = false;
  #closed = false;
  #epoch = 0;
  #listeners: { onReady: () => void; onError: (error: unknown) => void } | undefined;

  constructor(client: NodeRedisClientLike, create?: () => NodeRedisClientLike) {
    super();
    this.#client = client;
    this.#create = create;
  }

  get ready(): boolean {
    return this.#client.isReady;
  }

  get epoch(): number {
    return this.#epoch;
  }

  get redialable(): boolean {
    return this.#create !== undefined && !this.#closed;
  }

  command(args: string[]): Promise<unknown> {
    return this.#client.sendCommand(args);
  }

  open(): void {
    if (this.#client.isOpen) return;
    this.#opened = true;
    // node-redis keeps retrying by its reconnect strategy until it connects;
    // the promise rejects only if the client is closed meanwhile.
    this.#client.connect().catch(() => undefined);
  }

  async close(graceMs = 1000): Promise<void> {
    this.#closed = true;
    if (this.#create === undefined && !this.#opened) return;
    const client = this.#client as ClosableNodeRedisClient;
    if (!client.isOpen) return;
    if (!client.isReady) {
      // Nothing to flush: cut the reconnect loop at once.
      destroy(client);
      return;
    }
    // A graceful close waits for every command still under way; on a server
    // that stopped answering that would be forever.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
      timer.unref?.();
    });
    try {
      const closing = typeof client.close === 'function' ? client.close() : client.quit?.();
      await Promise.race([Promise.resolve(closing).then(ignore), cut]);
    } catch {
      // Closed already, or the socket failed while closing.
    } finally {
      clearTimeout(timer);
      if (client.isOpen) destroy(client);
    }
  }

  watch(onReady: () => void, onError: (error: unknown) => void): () => void {
    this.#listeners = { onReady, onError };
    this.#attach(this.#client);
    return () => {
      this.#detach(this.#client);
      this.#listeners = undefined;
    };
  }

  recycle(epoch: number): boolean {
    if (this.#create === undefined || this.#closed || epoch !== this.#epoch) return false;
    this.#epoch++;
    const stale = this.#client;
    this.#detach(stale);
    // A destroyed client may still report its socket's end; nobody must crash on it.
    stale.on('error', ignore);
    // Commands still waiting on the stale socket reject; their callers have given up on them.
    destroy(stale as ClosableNodeRedisClient);
    this.#client = this.#create();
    this.#attach(this.#client);
    this.#opened = false;
    this.open();
    return true;
  }

  #attach(client: NodeRedisClientLike): void {
    if (this.#listeners === undefined) return;
    client.on('ready', this.#listeners.onReady);
    client.on('error', this.#listeners.onError);
  }

  #detach(client: NodeRedisClientLike): void {
    if (this.#listeners === undefined) return;
    client.off('ready', this.#listeners.onReady);
    client.off('error', this.#listeners.onError);
  }
}

type ClosableNodeRedisClient = NodeRedisClientLike & {
  close?: () => Promise<void>;
  quit?: () => Promise<unknown>;
  destroy?: () => void;
  disconnect?: () => Promise<void>;
};

function ignore(): void {}

function destroy(client: ClosableNodeRedisClient): void {
  try {
    if (typeof client.destroy === 'function') client.destroy();
    else client.disconnect?.().catch(ignore);
  } catch {
    // Already closed.
  }
}

export class IoRedisConnection extends ScriptRunner implements RedisConnection {
  readonly #client: IoRedisClientLike;
  #opened = false;

  constructor(client: IoRedisClientLike) {
    super();
    this.#client = client;
  }

  get ready(): boolean {
    return this.#client.status === 'ready';
  }

  command(args: string[]): Promise<unknown> {
    const [name, ...rest] = args;
    return this.#client.call(name!, rest);
  }

  open(): void {
    // ioredis connects on its own unless created with `lazyConnect`.
    if (this.#client.status !== 'wait') return;
    this.#opened = true;
    this.#client.connect().catch(() => undefined);
  }

  async close(graceMs = 1000): Promise<void> {
    if (!this.#opened) return;
    const client = this.#client as IoRedisClientLike & { quit?: () => Promise<unknown>; disconnect?: () => void };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
      timer.unref?.();
    });
    try {
      if (this.ready) await Promise.race([Promise.resolve(client.quit?.()).then(ignore), cut]);
    } catch {
      // Closed already.
    } finally {
      clearTimeout(timer);
      if (client.status !== 'end') client.disconnect?.();
    }
  }

  watch(onReady: () => void, onError: (error: unknown) => void): () => void {
    this.#client.on('ready', onReady);
    this.#client.on('error', onError);
    return () => {
      this.#client.off('ready', onReady);
      this.#client.off('error', onError);
    };
  }

  readonly epoch = 0;
  readonly redialable = false;

  recycle(): boolean {
    return false;
  }
}
