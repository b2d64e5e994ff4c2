import { Task, TaskManager } from '@taskbuffer/core';
import { afterEach, describe, expect, it } from 'vitest';
import './define.js';
import type { TaskbufferDashboard } from './taskbuffer-dashboard.js';

const mounted: HTMLElement[] = [];

function mount(setup: (element: TaskbufferDashboard) => void = () => undefined): TaskbufferDashboard {
  const element = document.createElement('taskbuffer-dashboard');
  setup(element);
  document.body.append(element);
  mounted.push(element);
  return element;
}

afterEach(() => {
  for (const element of mounted.splice(0)) element.remove();
});

describe('TaskbufferDashboard', () => {
  describe('taskManager', () => {
    it('renders every task of the manager', async () => {
      const manager = new TaskManager();
      manager.addTask(new Task({ name: 'alpha', labels: { tenantId: 'acme' }, taskFunction: () => 1 }));
      manager.addTask(new Task({ name: 'beta', taskFunction: () => 2 }));
      const element = mount((el) => (el.taskManager = manager));
      await element.updateComplete;
      const rows = element.shadowRoot!.querySelectorAll('[role="listitem"]');
      expect([...rows].map((row) => row.getAttribute('data-task'))).toEqual(['alpha', 'beta']);
    });
  });
});
