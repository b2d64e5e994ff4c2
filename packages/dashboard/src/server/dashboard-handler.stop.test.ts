import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Task, TaskManager } from '@taskbuffer/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createDashboardHandler } from './dashboard-handler.js';

interface Message {
  event: string;
  data: string;
}

/** Reads a Server-Sent Events stream to its end; `messages` fills as they arrive. */
async function readEvents(url: string) {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  const messages: Message[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const ended = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let index: number;
        while ((index = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, index);
          buffer = buffer.slice(index + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) messages.push({ event, data });
        }
      }
    } catch {
      // Aborted by the test's cleanup.
    }
  })();
  return { messages, ended, close: () => controller.abort() };
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(manager: TaskManager) {
  const handler = createDashboardHandler({ manager, snapshotIntervalMs: 0 });
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cleanups.push(() => {
    handler.close();
    server.closeAllConnections();
  });
  return { handler, server, base };
}

/** Closes the server without forcing connections shut: resolves only once every stream has ended. */
const closeGently = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('createDashboardHandler', () => {
  describe('when its manager stops', () => {
    it('sends the last run events, then a final stopped event, and ends every stream so the server can close', async () => {
      const manager = new TaskManager();
      let finish!: () => void;
      const slow = new Task({ name: 'slow', taskFunction: () => new Promise<void>((resolve) => (finish = resolve)) });
      manager.addTask(slow);
      const { server, base, handler } = await serve(manager);
      const streams = [await readEvents(`${base}/events`), await readEvents(`${base}/events`)];
      for (const stream of streams) cleanups.push(stream.close);
      await expect.poll(() => streams.every((stream) => stream.messages.some((message) => message.event === 'snapshot'))).toBe(true);
      const run = manager.triggerTask(slow);
      const stopping = manager.stop();
      finish();
      await Promise.all([run, stopping]);
      await Promise.all(streams.map((stream) => stream.ended));
      for (const stream of streams) {
        const events = stream.messages.map((message) => message.event);
        expect(events.at(-1)).toBe('stopped');
        // The run's end went out before the end of the stream.
        const updates = stream.messages.filter((message) => message.event === 'update').map((message) => message.data);
        expect(updates.join('')).toContain('"completed"');
      }
      expect(handler.clientCount).toBe(0);
      await closeGently(server);
    });

    it('gives a page that connects to a stopped manager its last snapshot and the stopped event, and streams again after a restart', async () => {
      const manager = new TaskManager();
      manager.addTask(new Task({ name: 'a', taskFunction: () => 'a' }));
      const { base } = await serve(manager);
      await manager.stop();
      const late = await readEvents(`${base}/events`);
      cleanups.push(late.close);
      await late.ended;
      expect(late.messages.map((message) => message.event)).toEqual(['snapshot', 'stopped']);

      await manager.start();
      const again = await readEvents(`${base}/events`);
      cleanups.push(again.close);
      await expect.poll(() => again.messages.map((message) => message.event)).toEqual(['snapshot']);
      await manager.triggerTask(manager.getTaskByName('a')!);
      await expect.poll(() => again.messages.some((message) => message.event === 'update')).toBe(true);
      await manager.stop();
      await again.ended;
      expect(again.messages.at(-1)?.event).toBe('stopped');
    });
  });
});
