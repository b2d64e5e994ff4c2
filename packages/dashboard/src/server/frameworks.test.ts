/**
 * The README's Express and Fastify recipes, as written there, against the
 * real frameworks: the dashboard answers under its mount path (with and
 * without the trailing slash), streams events, leaves other routes to the
 * framework, and lets the server close once the manager has stopped.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Task, TaskManager } from '@taskbuffer/core';
import express from 'express';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createDashboardHandler } from './dashboard-handler.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function managerWith(name: string): TaskManager {
  const manager = new TaskManager();
  manager.addTask(new Task({ name, taskFunction: () => name }));
  return manager;
}

/** The first snapshot of the stream, then waits for the stream to end. */
async function watch(url: string) {
  const response = await fetch(url);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const snapshot = (async () => {
    while (!text.includes('event: snapshot')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
  })();
  await snapshot;
  const ended = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return text;
      text += value;
    }
  })();
  return { ended };
}

/** Checks the mount: both forms of the path, the page, the bundle, the events, and a route of the app's own. */
async function checkMount(base: string, manager: TaskManager) {
  const bare = await fetch(`${base}/taskbuffer`, { redirect: 'manual' });
  expect(bare.status).toBe(308);
  expect(bare.headers.get('location')).toBe('/taskbuffer/');
  const page = await fetch(`${base}/taskbuffer/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<taskbuffer-dashboard');
  expect((await fetch(`${base}/taskbuffer/taskbuffer-dashboard.js`)).status).toBe(200);
  expect(await (await fetch(`${base}/health`)).text()).toBe('ok');
  const stream = await watch(`${base}/taskbuffer/events`);
  await manager.stop();
  expect(await stream.ended).toContain('event: stopped');
}

describe('the README recipes', () => {
  it('Express: mounted under /taskbuffer, behind the app’s own middleware', async () => {
    const manager = managerWith('nightly');
    const requireLogin = (_request: IncomingMessage, _response: ServerResponse, next: () => void) => next();

    // As in the README:
    const app = express();
    app.get('/health', (_request, response) => void response.send('ok'));
    app.use('/taskbuffer', requireLogin, createDashboardHandler({ manager }));
    const server = app.listen(0, '127.0.0.1');

    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    cleanups.push(() => server.closeAllConnections());
    await checkMount(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, manager);
    // Every stream has ended: close() does not wait for a client.
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  });

  it('Fastify: the raw request and response handed over, also for the path without the trailing slash', async () => {
    const manager = managerWith('nightly');

    // As in the README:
    const fastify = Fastify();
    fastify.get('/health', async () => 'ok');
    const handler = createDashboardHandler({ manager, basePath: '/taskbuffer' });
    const dashboard = (request: { raw: IncomingMessage }, reply: { raw: ServerResponse; hijack(): void }) => {
      reply.hijack();
      handler(request.raw, reply.raw, () => reply.raw.writeHead(404).end());
    };
    fastify.all('/taskbuffer', dashboard);
    fastify.all('/taskbuffer/*', dashboard);
    await fastify.listen({ port: 0, host: '127.0.0.1' });

    cleanups.push(() => fastify.server.closeAllConnections());
    await checkMount(`http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`, manager);
    expect((await fetch(`http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}/taskbuffer/nothing-here`)).status).toBe(404);
    await fastify.close();
  });
});
