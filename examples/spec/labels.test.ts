import { Task, TaskManager } from '@taskbuffer/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureConsole } from './support/console.js';

// README § Labels. Each `it` holds one example, verbatim but for the import line;
// stand-ins come first, assertions after.

describe('README: Labels', () => {
  let output: ReturnType<typeof captureConsole>;
  beforeEach(() => {
    output = captureConsole();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('attaches, changes and reports labels', async () => {
    const task = new Task({
      name: 'ProcessOrder',
      labels: { userId: 'u-42', tenantId: 'acme-corp', priority: 'high' },
      taskFunction: async (order) => {
        /* ... */
      },
    });

    // Manipulate labels at runtime
    task.setLabel('region', 'eu-west');
    task.getLabel('userId'); // 'u-42'
    task.hasLabel('tenantId', 'acme-corp'); // true
    task.removeLabel('priority'); // true

    // Labels are included in metadata snapshots
    const meta = task.getMetadata();
    console.log(meta.labels); // { userId: 'u-42', tenantId: 'acme-corp', region: 'eu-west' }

    expect(meta.labels).toEqual({ userId: 'u-42', tenantId: 'acme-corp', region: 'eu-west' });
    expect(output.log).toHaveLength(1);
    // What the commented calls return, asked again.
    expect(task.getLabel('userId')).toBe('u-42');
    expect(task.hasLabel('tenantId', 'acme-corp')).toBe(true);
    expect(task.hasLabel('tenantId', 'globex')).toBe(false);
    expect(task.hasLabel('tenantId')).toBe(true);
    expect(task.removeLabel('priority')).toBe(false); // already removed
    expect(task.getLabel('priority')).toBeUndefined();
    // A snapshot is a copy.
    meta.labels.userId = 'changed';
    expect(task.getLabel('userId')).toBe('u-42');
  });

  it('Filtering Tasks by Label in TaskManager', () => {
    const order = (name: string, tenantId: string) => new Task({ name, labels: { tenantId }, taskFunction: async () => {} });
    const orderTask1 = order('order-1', 'acme');
    const orderTask2 = order('order-2', 'globex');
    const orderTask3 = order('order-3', 'acme');

    const manager = new TaskManager();
    manager.addTask(orderTask1); // labels: { tenantId: 'acme' }
    manager.addTask(orderTask2); // labels: { tenantId: 'globex' }
    manager.addTask(orderTask3); // labels: { tenantId: 'acme' }

    const acmeTasks = manager.getTasksByLabel('tenantId', 'acme');
    // → [orderTask1, orderTask3]

    const acmeMetadata = manager.getTasksMetadataByLabel('tenantId', 'acme');
    // → [ITaskMetadata, ITaskMetadata]

    expect(acmeTasks).toEqual([orderTask1, orderTask3]);
    expect(acmeTasks[0]).toBe(orderTask1);
    expect(acmeMetadata.map((meta) => [meta.name, meta.labels])).toEqual([
      ['order-1', { tenantId: 'acme' }],
      ['order-3', { tenantId: 'acme' }],
    ]);
    expect(manager.getTasksByLabel('tenantId', 'initech')).toEqual([]);
  });
});
