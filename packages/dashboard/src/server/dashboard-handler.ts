import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalidOption } from '../errors.js';
import { type LocalDashboardSource, assertManager, createLocalDashboardSource } from '../local-source.js';
import type { DashboardManager, DashboardSnapshot, DashboardSource, DashboardUpdate } from '../protocol.js';
import { loadDashboardBundle } from './bundle.js';
import { renderDashboardPage } from './page.js';

/** A manager the dashboard may also trigger tasks of. */
export interface TriggerableDashboardManager extends DashboardManager {
  triggerTaskByName(name: string, input?: unknown): Promise<unknown>;
}

/** Options of {@link createDashboardHandler}: a `manager` or a `source`. */
export interface DashboardHandlerOptions {
  /**
   * The manager to show: a `TaskManager` in this process. The handler wraps
   * it in `createLocalDashboardSource(manager, …)` with `coalesceMs`,
   * `maxEventsPerUpdate`, `runsPerTask` and `keepHistory`.
   */
  manager?: DashboardManager;
  /** Any dashboard source instead of a manager (e.g. one that merges several instances). */
  source?: DashboardSource;
  /**
   * Where the dashboard is mounted on a plain `node:http` server. Leave it at
   * `/` when a framework strips the mount path (Express `app.use('/tasks', handler)`).
   * @default '/'
   */
  basePath?: string;
  /** The page's title and the dashboard's heading. @default 'taskbuffer' */
  title?: string;
  /** Events within this window go out as one update. @default 100 */
  coalesceMs?: number;
  /** The most events one update carries; the rest are counted, not sent. @default 100 */
  maxEventsPerUpdate?: number;
  /** With `manager`: runs kept per task in the run history. @default 200 */
  runsPerTask?: number;
  /** With `manager`: runs kept over all tasks. @default 20000 */
  maxRuns?: number;
  /**
   * With `manager`: record runs while no page watches (see
   * `createLocalDashboardSource`); `false` watches the manager only while a page does.
   * @default true
   */
  keepHistory?: boolean;
  /**
   * How often a full snapshot is pushed to watchers (next runs, removed tasks,
   * cooldowns); `0` sends one only when a watcher connects. @default 5000
   */
  snapshotIntervalMs?: number;
  /** How often an idle stream gets a comment, so proxies keep it open. @default 15000 */
  heartbeatMs?: number;
  /** How many upcoming scheduled runs a snapshot lists. @default 10 */
  nextRunsLimit?: number;
  /**
   * Allows `POST <base>/tasks/:name/trigger`. Needs `authorize`.
   * @default false
   */
  allowTrigger?: boolean;
  /**
   * Decides whether a request may trigger work. Required with `allowTrigger`.
   * @example (request) => request.socket.remoteAddress === '127.0.0.1'
   */
  authorize?: (request: IncomingMessage) => boolean | Promise<boolean>;
  /** Serve this file as the element's bundle instead of the package's own. */
  bundlePath?: string;
}

/**
 * A request handler for `node:http`, usable as Express or Connect middleware:
 * requests outside the dashboard go to `next` (or get a 404 without one).
 */
export interface DashboardHandler {
  (request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void): void;
  /** How many event streams are open. */
  readonly clientCount: number;
  /** Ends every event stream and stops watching the source (and closes the one made for `manager`). */
  close(): void;
}

interface Client {
  response: ServerResponse;
  /** Too much is buffered for this client; updates are skipped until it drains, then a snapshot goes out. */
  stalled: boolean;
}

const BUNDLE_FILE = 'taskbuffer-dashboard.js';
/** Above this much unsent data a client is treated as slow. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
const TRIGGER_PATH = /^\/tasks\/([^/]+)\/trigger$/;

function normalizeBasePath(basePath: string): string {
  if (typeof basePath !== 'string' || !basePath.startsWith('/')) {
    invalidOption('basePath', 'a path starting with "/"', basePath);
  }
  return basePath.replace(/\/+$/, '');
}

function checkDuration(option: string, value: number | undefined, fallback: number, allowZero: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    invalidOption(option, allowZero ? 'a non-negative number of ms' : 'a positive number of ms', value);
  }
  return value;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

function sendError(response: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  sendJson(response, status, { error: message });
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function assertSource(source: unknown, option: string): asserts source is DashboardSource {
  const candidate = source as Partial<DashboardSource> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.getSnapshot !== 'function' ||
    typeof candidate.subscribe !== 'function'
  ) {
    invalidOption(option, 'a dashboard source with `getSnapshot` and `subscribe`', source);
  }
}

function sameOrigin(request: IncomingMessage): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/**
 * Serves a manager to `<taskbuffer-dashboard>`: the page, the element's
 * bundle, a JSON snapshot and the live events as Server-Sent Events. Read-only
 * unless `allowTrigger` is set together with an `authorize` hook.
 *
 * | route | what |
 * | --- | --- |
 * | `GET <base>/` | a page that shows the dashboard |
 * | `GET <base>/taskbuffer-dashboard.js` | the element, with Lit, as one ES module |
 * | `GET <base>/snapshot` | the current snapshot as JSON |
 * | `GET <base>/events` | `snapshot` and coalesced `update` events (SSE) |
 * | `POST <base>/tasks/:name/trigger` | with `allowTrigger`: triggers a task, answers 202 |
 *
 * @example
 * ```ts
 * const handler = createDashboardHandler({ manager });
 * http.createServer(handler).listen(3000, '127.0.0.1');
 * ```
 */
export function createDashboardHandler(options: DashboardHandlerOptions): DashboardHandler {
  if (typeof options !== 'object' || options === null) invalidOption('options', 'an object', options);
  const { manager } = options;
  if (manager !== undefined && options.source !== undefined) {
    invalidOption('source', 'left out when `manager` is given', options.source);
  }
  if (manager === undefined && options.source === undefined) {
    invalidOption('manager', 'a TaskManager (or pass `source`)', manager);
  }
  if (manager !== undefined) assertManager(manager, 'manager');
  else assertSource(options.source, 'source');
  const basePath = normalizeBasePath(options.basePath ?? '/');
  const title = options.title ?? 'taskbuffer';
  const coalesceMs = checkDuration('coalesceMs', options.coalesceMs, 100, true);
  const snapshotIntervalMs = checkDuration('snapshotIntervalMs', options.snapshotIntervalMs, 5000, true);
  const heartbeatMs = checkDuration('heartbeatMs', options.heartbeatMs, 15_000, false);
  const nextRunsLimit = options.nextRunsLimit ?? 10;
  if (!Number.isInteger(nextRunsLimit) || nextRunsLimit < 0) {
    invalidOption('nextRunsLimit', 'a non-negative integer', nextRunsLimit);
  }
  const allowTrigger = options.allowTrigger ?? false;
  if (typeof allowTrigger !== 'boolean') invalidOption('allowTrigger', 'a boolean', allowTrigger);
  const authorize = options.authorize;
  if (authorize !== undefined && typeof authorize !== 'function') {
    invalidOption('authorize', 'a function `(request) => boolean | Promise<boolean>`', authorize);
  }
  if (allowTrigger && authorize === undefined) {
    invalidOption('authorize', 'a function `(request) => boolean | Promise<boolean>` when `allowTrigger` is true', authorize);
  }
  if (allowTrigger && manager !== undefined && typeof (manager as Partial<TriggerableDashboardManager>).triggerTaskByName !== 'function') {
    invalidOption('manager', 'a TaskManager with `triggerTaskByName` when `allowTrigger` is true', manager);
  }
  if (allowTrigger && options.source !== undefined && typeof options.source.trigger !== 'function') {
    invalidOption('source', 'a source with `trigger` when `allowTrigger` is true', options.source);
  }
  const ownSource: LocalDashboardSource | undefined =
    manager === undefined
      ? undefined
      : createLocalDashboardSource(manager, {
          coalesceMs,
          maxEventsPerUpdate: options.maxEventsPerUpdate,
          runsPerTask: options.runsPerTask,
          maxRuns: options.maxRuns,
          keepHistory: options.keepHistory,
        });
  const source: DashboardSource = ownSource ?? options.source!;
  const actions = allowTrigger ? { trigger: 'tasks/{name}/trigger' } : {};

  const clients = new Set<Client>();
  let subscription: { unsubscribe(): void } | undefined;
  let snapshotTimer: ReturnType<typeof setInterval> | undefined;
  let heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  /** What the source last reported as wrong, told to every new watcher too. */
  let problem: string | undefined;
  /** The source has stopped (its manager's stop() has ended): streams end after a final `stopped` event. */
  let sourceStopped = false;

  const takeSnapshot = async (runs: boolean): Promise<DashboardSnapshot> => {
    const snapshot = await source.getSnapshot({ nextRunsLimit, runs });
    return { ...snapshot, actions };
  };
  const snapshotMessage = (snapshot: DashboardSnapshot) => `event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`;
  const problemMessage = (message: string | undefined) =>
    `event: problem\ndata: ${JSON.stringify({ message: message ?? null })}\n\n`;
  const stoppedMessage = 'event: stopped\ndata: {}\n\n';

  const write = (client: Client, message: string): void => {
    const response = client.response;
    if (client.stalled || response.writableEnded) return;
    // A slow client gets no backlog: once it drains, one fresh snapshot replaces what it missed.
    if (response.writableLength > MAX_BUFFERED_BYTES) {
      client.stalled = true;
      response.once('drain', () => {
        takeSnapshot(true).then(
          (snapshot) => {
            client.stalled = false;
            if (!response.writableEnded) response.write(snapshotMessage(snapshot));
          },
          (error: unknown) => endWithProblem(client, error),
        );
      });
      return;
    }
    response.write(message);
  };

  const broadcast = (message: string): void => {
    for (const client of clients) write(client, message);
  };

  /** Tells the client why there is no picture and ends its stream; the page retries. */
  const endWithProblem = (client: Client, error: unknown): void => {
    const response = client.response;
    if (response.writableEnded) return;
    response.end(problemMessage(`The dashboard source failed: ${describeError(error)}`));
  };

  // The source is watched only while someone watches the dashboard.
  const startWatching = () => {
    sourceStopped = false;
    subscription = source.subscribe({
      update: (update: DashboardUpdate) => broadcast(`event: update\ndata: ${JSON.stringify(update)}\n\n`),
      problem: (message) => {
        problem = message;
        broadcast(problemMessage(message));
      },
      stopped: () => {
        // Nothing more will come: say so and end every stream, so that the server can close.
        sourceStopped = true;
        const ending = [...clients];
        clients.clear();
        for (const client of ending) {
          if (!client.response.writableEnded) client.response.end(stoppedMessage);
        }
        stopWatching();
      },
    });
    if (snapshotIntervalMs > 0) {
      snapshotTimer = setInterval(() => {
        takeSnapshot(false).then(
          (snapshot) => broadcast(snapshotMessage(snapshot)),
          (error: unknown) => broadcast(problemMessage(`The dashboard source failed: ${describeError(error)}`)),
        );
      }, snapshotIntervalMs);
      snapshotTimer.unref();
    }
    heartbeatTimer = setInterval(() => broadcast(': heartbeat\n\n'), heartbeatMs);
    heartbeatTimer.unref();
  };

  const stopWatching = () => {
    subscription?.unsubscribe();
    subscription = undefined;
    clearInterval(snapshotTimer);
    clearInterval(heartbeatTimer);
    snapshotTimer = undefined;
    heartbeatTimer = undefined;
  };

  const openStream = (request: IncomingMessage, response: ServerResponse): void => {
    if (closed) {
      sendError(response, 503, 'The dashboard is closed');
      return;
    }
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    const client: Client = { response, stalled: false };
    let removed = false;
    const remove = () => {
      removed = true;
      if (!clients.delete(client)) return;
      if (clients.size === 0) stopWatching();
    };
    request.on('close', remove);
    response.on('close', remove);
    response.write('retry: 2000\n\n');
    // Watching starts before the snapshot is taken, so nothing falls between the two.
    if (clients.size === 0 && subscription === undefined) startWatching();
    takeSnapshot(true).then(
      (snapshot) => {
        if (removed || closed || response.writableEnded) return;
        if (sourceStopped) {
          // The last picture, then the end: the page shows the manager as stopped.
          response.end(snapshotMessage(snapshot) + stoppedMessage);
          if (clients.size === 0) stopWatching();
          return;
        }
        clients.add(client);
        write(client, snapshotMessage(snapshot) + (problem === undefined ? '' : problemMessage(problem)));
      },
      (error: unknown) => {
        if (clients.size === 0) stopWatching();
        endWithProblem(client, error);
      },
    );
  };

  const serveBundle = (request: IncomingMessage, response: ServerResponse): void => {
    loadDashboardBundle(options.bundlePath).then(
      (bundle) => {
        const headers = {
          'content-type': 'text/javascript; charset=utf-8',
          'cache-control': 'no-cache',
          etag: bundle.etag,
          'x-content-type-options': 'nosniff',
        };
        if (request.headers['if-none-match'] === bundle.etag) {
          response.writeHead(304, headers);
          response.end();
          return;
        }
        response.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(bundle.code) });
        response.end(bundle.code);
      },
      (error: unknown) => {
        sendError(response, 500, error instanceof Error ? error.message : 'The dashboard bundle could not be loaded');
      },
    );
  };

  const trigger = async (request: IncomingMessage, response: ServerResponse, encodedName: string): Promise<void> => {
    // The body is not used; read it so the connection can be reused.
    request.resume();
    if (!sameOrigin(request)) return sendError(response, 403, 'Cross-origin requests may not trigger tasks');
    const contentType = request.headers['content-type'] ?? '';
    // A JSON content type cannot be sent cross-site without a CORS preflight, which this handler never grants.
    if (!contentType.toLowerCase().startsWith('application/json')) {
      return sendError(response, 415, 'Send the request with `content-type: application/json`');
    }
    let allowed: boolean;
    try {
      allowed = (await authorize!(request)) === true;
    } catch {
      allowed = false;
    }
    if (!allowed) return sendError(response, 403, 'Not authorized to trigger tasks');
    let name: string;
    try {
      name = decodeURIComponent(encodedName);
    } catch {
      return sendError(response, 400, 'Malformed task name');
    }
    try {
      await source.trigger!(name);
    } catch (error) {
      if ((error as { name?: unknown } | null)?.name === 'TaskNotFoundError') {
        return sendError(response, 404, `No task named "${name}"`);
      }
      return sendError(response, 502, `Could not trigger "${name}": ${describeError(error)}`);
    }
    sendJson(response, 202, { triggered: name });
  };

  const handler = ((request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const pathname = url.pathname;
    let path: string;
    if (basePath === '') path = pathname;
    else if (pathname === basePath || pathname.startsWith(`${basePath}/`)) path = pathname.slice(basePath.length);
    else {
      if (next !== undefined) next();
      else sendError(response, 404, 'Not found');
      return;
    }
    const method = request.method ?? 'GET';
    const readable = method === 'GET' || method === 'HEAD';

    if (path === '' || path === '/') {
      // The page refers to its neighbours by relative URLs, so it must be served under a trailing slash.
      const originalPath = new URL((request as { originalUrl?: string }).originalUrl ?? request.url ?? '/', 'http://localhost')
        .pathname;
      if (path === '' || !originalPath.endsWith('/')) {
        response.writeHead(308, { location: `${originalPath}/${url.search}` });
        response.end();
        return;
      }
      if (!readable) return sendError(response, 405, 'Method not allowed', { allow: 'GET, HEAD' });
      const page = renderDashboardPage({ title, bundle: BUNDLE_FILE, events: 'events' });
      response.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'content-security-policy':
          "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; " +
          "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        'content-length': Buffer.byteLength(page),
      });
      response.end(page);
      return;
    }
    if (path === `/${BUNDLE_FILE}`) {
      if (!readable) return sendError(response, 405, 'Method not allowed', { allow: 'GET, HEAD' });
      return serveBundle(request, response);
    }
    if (path === '/snapshot') {
      if (!readable) return sendError(response, 405, 'Method not allowed', { allow: 'GET, HEAD' });
      takeSnapshot(true).then(
        (snapshot) => sendJson(response, 200, snapshot),
        (error: unknown) => sendError(response, 502, `The dashboard source failed: ${describeError(error)}`),
      );
      return;
    }
    if (path === '/events') {
      if (method !== 'GET') return sendError(response, 405, 'Method not allowed', { allow: 'GET' });
      return openStream(request, response);
    }
    const match = TRIGGER_PATH.exec(path);
    if (match !== null && allowTrigger) {
      if (method !== 'POST') return sendError(response, 405, 'Method not allowed', { allow: 'POST' });
      trigger(request, response, match[1]!).catch((error: unknown) => {
        if (!response.headersSent) sendError(response, 500, error instanceof Error ? error.message : 'Trigger failed');
      });
      return;
    }
    if (next !== undefined) next();
    else sendError(response, 404, 'Not found');
  }) as DashboardHandler;

  Object.defineProperty(handler, 'clientCount', { get: () => clients.size });
  handler.close = () => {
    closed = true;
    for (const client of [...clients]) client.response.end();
    clients.clear();
    stopWatching();
    ownSource?.close();
  };
  return handler;
}
