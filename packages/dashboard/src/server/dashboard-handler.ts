import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalidOption } from '../errors.js';
import { EventCoalescer } from '../event-coalescer.js';
import { type DashboardSource, createSnapshot, getConstraintGroupSnapshots } from '../protocol.js';
import { loadDashboardBundle } from './bundle.js';
import { renderDashboardPage } from './page.js';

/** A manager the dashboard may also trigger tasks of. */
export interface TriggerableDashboardSource extends DashboardSource {
  triggerTaskByName(name: string, input?: unknown): Promise<unknown>;
}

/** Options of {@link createDashboardHandler}. */
export interface DashboardHandlerOptions {
  /** The manager to show: a `TaskManager`. */
  manager: DashboardSource;
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
  /** Ends every event stream and stops watching the manager. */
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
  if (
    typeof manager !== 'object' ||
    manager === null ||
    typeof manager.getAllTasksMetadata !== 'function' ||
    typeof manager.taskSubject?.subscribe !== 'function'
  ) {
    invalidOption('manager', 'a TaskManager', manager);
  }
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
  if (allowTrigger && typeof (manager as Partial<TriggerableDashboardSource>).triggerTaskByName !== 'function') {
    invalidOption('manager', 'a TaskManager with `triggerTaskByName` when `allowTrigger` is true', manager);
  }
  const actions = allowTrigger ? { trigger: 'tasks/{name}/trigger' } : {};

  const clients = new Set<Client>();
  let subscription: { unsubscribe(): void } | undefined;
  let snapshotTimer: ReturnType<typeof setInterval> | undefined;
  let heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  let closed = false;

  const snapshotMessage = () =>
    `event: snapshot\ndata: ${JSON.stringify(createSnapshot(manager, { nextRunsLimit, actions }))}\n\n`;

  const write = (client: Client, message: string): void => {
    const response = client.response;
    if (client.stalled || response.writableEnded) return;
    // `write()` returning false only means the message is buffered. A client is slow when a lot is
    // buffered: skip what comes until the socket drains, then send one snapshot instead of the backlog.
    if (response.writableLength > MAX_BUFFERED_BYTES) {
      client.stalled = true;
      response.once('drain', () => {
        client.stalled = false;
        if (!response.writableEnded) response.write(snapshotMessage());
      });
      return;
    }
    response.write(message);
  };

  const broadcast = (message: string): void => {
    for (const client of clients) write(client, message);
  };

  const coalescer = new EventCoalescer({
    maxEvents: options.maxEventsPerUpdate ?? 100,
    schedule: (callback) => {
      const timer = setTimeout(callback, coalesceMs);
      timer.unref();
      return () => clearTimeout(timer);
    },
    onFlush: (update) => {
      if ((manager.constraintGroups?.length ?? 0) > 0) update.constraintGroups = getConstraintGroupSnapshots(manager);
      broadcast(`event: update\ndata: ${JSON.stringify(update)}\n\n`);
    },
  });

  // The manager is watched only while someone watches the dashboard: core builds event
  // snapshots only for observed subjects, so an unwatched dashboard costs nothing.
  const startWatching = () => {
    subscription = manager.taskSubject.subscribe((event) => coalescer.push(event));
    if (snapshotIntervalMs > 0) {
      snapshotTimer = setInterval(() => {
        coalescer.flush();
        broadcast(snapshotMessage());
      }, snapshotIntervalMs);
      snapshotTimer.unref();
    }
    heartbeatTimer = setInterval(() => broadcast(': heartbeat\n\n'), heartbeatMs);
    heartbeatTimer.unref();
  };

  const stopWatching = () => {
    subscription?.unsubscribe();
    subscription = undefined;
    coalescer.clear();
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
    // Pending events belong to the picture the new client is about to get; flush them to the others first.
    coalescer.flush();
    if (clients.size === 0) startWatching();
    clients.add(client);
    write(client, `retry: 2000\n\n${snapshotMessage()}`);
    const remove = () => {
      if (!clients.delete(client)) return;
      if (clients.size === 0) stopWatching();
    };
    request.on('close', remove);
    response.on('close', remove);
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
    if (!manager.getAllTasksMetadata().some((task) => task.name === name)) {
      return sendError(response, 404, `No task named "${name}"`);
    }
    // The run's outcome reaches watchers as events; the rejection is handled here so it is never unhandled.
    (manager as TriggerableDashboardSource).triggerTaskByName(name).catch(() => undefined);
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
      return sendJson(response, 200, createSnapshot(manager, { nextRunsLimit, actions }));
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
  };
  return handler;
}
