import { Task, TaskManager } from '@taskbuffer/core';
import '@taskbuffer/dashboard';
import { TaskbufferDashboard, createSnapshot } from '@taskbuffer/dashboard';
import { afterEach, describe, expect, it, vi } from 'vitest';

// README § Web Component Dashboard. The example is a <script type="module"> in a
// page; dashboard.test-d.ts type-checks it against the real DOM types. Here it
// runs in Node, where Lit provides `customElements` but there is no document: a
// stand-in `document` hands out the page's one <taskbuffer-dashboard> element.
// Rendering in a browser is covered by the dashboard package's browser tests.

describe('README: Web Component Dashboard', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('importing the package defines <taskbuffer-dashboard>, which takes a manager and a refresh interval', async () => {
    const Element = customElements.get('taskbuffer-dashboard');
    expect(Element).toBe(TaskbufferDashboard);
    const page = { 'taskbuffer-dashboard': new TaskbufferDashboard() };
    const document = { querySelector: (selector: 'taskbuffer-dashboard') => page[selector] };

    const manager = new TaskManager();
    // ... add and schedule tasks ...
    manager.addTask(new Task({ name: 'Greet', labels: { tenantId: 'acme' }, taskFunction: async () => 'hi' }));

    const dashboard = document.querySelector('taskbuffer-dashboard');
    dashboard.taskManager = manager;
    dashboard.refreshInterval = 500; // Poll every 500ms

    expect(dashboard.taskManager).toBe(manager);
    expect(dashboard.refreshInterval).toBe(500);
    expect(() => {
      dashboard.taskManager = {} as never;
    }).toThrow(TypeError);

    // What the element shows of the manager: its tasks, with labels and status.
    await manager.triggerTaskByName('Greet');
    const snapshot = createSnapshot(manager);
    expect(snapshot.tasks.map((task) => [task.name, task.status, task.labels])).toEqual([['Greet', 'completed', { tenantId: 'acme' }]]);
  });
});
