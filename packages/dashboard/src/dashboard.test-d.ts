import type { RequestListener } from 'node:http';
import { TaskManager } from '@taskbuffer/core';
import { describe, expectTypeOf, it } from 'vitest';
import type { TaskbufferDashboard } from './browser/taskbuffer-dashboard.js';
import type { DashboardManager, DashboardTask } from './protocol.js';
import { type DashboardHandler, createDashboardHandler } from './server/dashboard-handler.js';

describe('DashboardManager', () => {
  it('is satisfied by a TaskManager', () => {
    expectTypeOf<TaskManager>().toMatchTypeOf<DashboardManager>();
  });
});

describe('TaskbufferDashboard', () => {
  it('is what document.createElement returns for its tag', () => {
    expectTypeOf(document.createElement('taskbuffer-dashboard')).toEqualTypeOf<TaskbufferDashboard>();
  });

  it('takes a manager, a source URL, a theme and a label filter', () => {
    expectTypeOf<TaskbufferDashboard['taskManager']>().toEqualTypeOf<DashboardManager | undefined>();
    expectTypeOf<TaskbufferDashboard['src']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<TaskbufferDashboard['theme']>().toEqualTypeOf<'auto' | 'light' | 'dark'>();
    expectTypeOf<TaskbufferDashboard['refreshInterval']>().toEqualTypeOf<number>();
  });
});

describe('DashboardTask', () => {
  it('carries dates as epoch ms', () => {
    expectTypeOf<DashboardTask['lastRun']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<DashboardTask['nextRun']>().toEqualTypeOf<number | undefined>();
  });
});

describe('createDashboardHandler', () => {
  it('returns a node:http request listener that also takes next()', () => {
    const handler = createDashboardHandler({ manager: new TaskManager() });
    expectTypeOf(handler).toEqualTypeOf<DashboardHandler>();
    expectTypeOf(handler).toMatchTypeOf<RequestListener>();
    expectTypeOf(handler).parameter(2).toEqualTypeOf<((error?: unknown) => void) | undefined>();
  });

  it('takes an authorize hook that may answer later', () => {
    expectTypeOf(createDashboardHandler)
      .parameter(0)
      .toHaveProperty('authorize')
      .toEqualTypeOf<((request: import('node:http').IncomingMessage) => boolean | Promise<boolean>) | undefined>();
  });
});
