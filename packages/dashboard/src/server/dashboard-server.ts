import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { invalidOption } from '../errors.js';
import { type DashboardHandler, type DashboardHandlerOptions, createDashboardHandler } from './dashboard-handler.js';

/** Options of {@link startDashboardServer}. */
export interface DashboardServerOptions extends Omit<DashboardHandlerOptions, 'basePath'> {
  /** `0` picks a free port. @default 0 */
  port?: number;
  /** Only this machine can connect by default. @default '127.0.0.1' */
  host?: string;
}

/** A running dashboard server. */
export interface DashboardServer {
  /** The page's URL, e.g. `http://127.0.0.1:3000/`. */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  readonly handler: DashboardHandler;
  /** Ends the event streams and closes the server. */
  close(): Promise<void>;
}

/**
 * Starts a `node:http` server that serves only the dashboard.
 *
 * @example
 * ```ts
 * const dashboard = await startDashboardServer({ manager, port: 3000 });
 * console.log(`Dashboard: ${dashboard.url}`);
 * ```
 */
export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  if (typeof options !== 'object' || options === null) invalidOption('options', 'an object', options);
  const { port = 0, host = '127.0.0.1', ...handlerOptions } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) invalidOption('port', 'an integer from 0 to 65535', port);
  if (typeof host !== 'string' || host === '') invalidOption('host', 'a host name or address', host);
  const handler = createDashboardHandler(handlerOptions);
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}/`,
    port: address.port,
    server,
    handler,
    close: () =>
      new Promise<void>((resolve, reject) => {
        handler.close();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
