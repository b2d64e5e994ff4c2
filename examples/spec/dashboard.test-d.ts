import { TaskManager } from '@taskbuffer/core';
import '@taskbuffer/dashboard';
import type { TaskbufferDashboard } from '@taskbuffer/dashboard';
import { describe, expectTypeOf, it } from 'vitest';

// README § Web Component Dashboard, type-checked against the DOM's own types
// (this file is only type-checked, never run).

describe('README: Web Component Dashboard (types)', () => {
  it('compiles the page script', () => {
    const manager = new TaskManager();
    // ... add and schedule tasks ...

    // `!` added: `querySelector` may return null, which `strict` does not let the spec ignore.
    const dashboard = document.querySelector('taskbuffer-dashboard')!;
    dashboard.taskManager = manager;
    dashboard.refreshInterval = 500; // Poll every 500ms

    expectTypeOf(document.querySelector('taskbuffer-dashboard')).toEqualTypeOf<TaskbufferDashboard | null>();
    expectTypeOf(dashboard.refreshInterval).toEqualTypeOf<number>();
  });
});
