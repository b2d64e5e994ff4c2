import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DashboardInstance, DashboardRun, DashboardSnapshot, DashboardTask } from '../protocol.js';
import './define.js';
import type { TaskbufferDashboard } from './taskbuffer-dashboard.js';

/** Stands in for `EventSource`: the test sends the messages a server would. */
class FakeEventSource extends EventTarget {
  static instances: FakeEventSource[] = [];
  readonly url: string;
  constructor(url: string | URL) {
    super();
    this.url = String(url);
    FakeEventSource.instances.push(this);
  }
  send(type: string, data: unknown): void {
    this.dispatchEvent(new MessageEvent(type, { data: JSON.stringify(data) }));
  }
  close(): void {}
}

const RealEventSource = globalThis.EventSource;
const mounted: HTMLElement[] = [];

beforeEach(() => {
  FakeEventSource.instances = [];
  globalThis.EventSource = FakeEventSource as unknown as typeof EventSource;
});

afterEach(() => {
  for (const element of mounted.splice(0)) element.remove();
  globalThis.EventSource = RealEventSource;
});

const shadow = (element: TaskbufferDashboard) => element.shadowRoot!;

function task(name: string, instances: string[]): DashboardTask {
  return { name, status: 'idle', steps: [], currentProgress: 0, runCount: 0, labels: {}, errorCount: 0, instances };
}

const now = Date.now();
const instances: DashboardInstance[] = [
  { id: 'web-1', status: 'live', lastSeen: now, triggers: true },
  { id: 'web-2', status: 'live', lastSeen: now, triggers: false },
  { id: 'web-3', status: 'gone', lastSeen: now - 60_000, triggers: true },
];
const runs: DashboardRun[] = [
  { id: 'web-1:a.1', taskName: 'render', status: 'completed', startedAt: now - 20_000, endedAt: now - 19_000, instanceId: 'web-1' },
  { id: 'web-2:b.1', taskName: 'render', status: 'failed', startedAt: now - 15_000, endedAt: now - 14_000, instanceId: 'web-2', error: 'boom' },
  { id: 'web-3:c.1', taskName: 'cleanup', status: 'completed', startedAt: now - 70_000, endedAt: now - 69_000, instanceId: 'web-3' },
];

function clusterSnapshot(overrides: Partial<DashboardSnapshot> = {}): DashboardSnapshot {
  return {
    protocol: 1,
    time: now,
    tasks: [task('render', ['web-1', 'web-2']), task('report', ['web-2']), task('cleanup', ['web-3'])],
    scheduled: [],
    nextRuns: [],
    constraintGroups: [],
    actions: { trigger: 'tasks/{name}/trigger' },
    runs,
    runsPerTask: 200,
    instances,
    ...overrides,
  };
}

async function mountCluster(): Promise<{ element: TaskbufferDashboard; stream: FakeEventSource }> {
  const element = document.createElement('taskbuffer-dashboard');
  element.theme = 'light';
  element.src = '/taskbuffer/events';
  element.timelineMinutes = 5;
  document.body.append(element);
  mounted.push(element);
  await element.updateComplete;
  const stream = FakeEventSource.instances.at(-1)!;
  stream.dispatchEvent(new Event('open'));
  stream.send('snapshot', clusterSnapshot());
  stream.send('update', {
    protocol: 1,
    time: now,
    tasks: [],
    events: [
      { type: 'completed', taskName: 'render', timestamp: now - 19_000, instanceId: 'web-1' },
      { type: 'failed', taskName: 'render', timestamp: now - 14_000, instanceId: 'web-2', error: 'boom' },
    ],
    droppedEvents: 0,
  });
  await vi.waitFor(() => expect(shadow(element).querySelectorAll('[role="listitem"]')).toHaveLength(3));
  return { element, stream };
}

const rowNames = (element: TaskbufferDashboard) =>
  [...shadow(element).querySelectorAll('[role="listitem"]')].map((row) => row.getAttribute('data-task'));
const runButtons = (element: TaskbufferDashboard) =>
  [...shadow(element).querySelectorAll('[role="listitem"] button[aria-label^="Run "]')].map((button) =>
    button.closest('[role="listitem"]')!.getAttribute('data-task'),
  );

describe('TaskbufferDashboard instances', () => {
  it('says how many instances are live and gone, and offers each one as a filter', async () => {
    const { element } = await mountCluster();
    expect(shadow(element).querySelector('[data-presence]')!.textContent!.replace(/\s+/g, ' ').trim()).toBe(
      '2 instances live, 1 gone',
    );
    const select = shadow(element).querySelector<HTMLSelectElement>('select.instance-select')!;
    expect([...select.options].map((option) => option.textContent!.trim())).toEqual([
      'All instances',
      'web-1',
      'web-2',
      'web-3 (gone)',
    ]);
  });

  it("shows only the chosen instance's tasks, runs and events", async () => {
    const { element } = await mountCluster();
    const select = shadow(element).querySelector<HTMLSelectElement>('select.instance-select')!;
    select.value = 'web-2';
    select.dispatchEvent(new Event('change'));
    await element.updateComplete;
    expect(element.instance).toBe('web-2');
    expect(rowNames(element)).toEqual(['render', 'report']);
    shadow(element).querySelector<HTMLButtonElement>('button.table-toggle')!.click();
    await element.updateComplete;
    const tableRuns = [...shadow(element).querySelectorAll('.run-table [data-run]')].map((row) => row.getAttribute('data-run'));
    expect(tableRuns).toEqual(['web-2:b.1']);
    const events = shadow(element).querySelector('section[aria-label="Recent events"]')!.textContent!;
    expect(events).toContain('boom');
    expect(events).not.toContain('completed');
    element.instance = undefined;
    await element.updateComplete;
    expect(rowNames(element)).toEqual(['render', 'report', 'cleanup']);
  });

  it('offers "Run" only for tasks that a live instance taking triggers has, and follows presence', async () => {
    const { element, stream } = await mountCluster();
    // `report` is only on web-2, which takes no triggers; `cleanup` only on web-3, which is gone.
    expect(runButtons(element)).toEqual(['render']);
    stream.send('update', {
      protocol: 1,
      time: Date.now(),
      tasks: [],
      events: [],
      droppedEvents: 0,
      instances: [{ ...instances[0]!, status: 'gone' }, instances[1], { ...instances[2]!, status: 'live' }],
    });
    await vi.waitFor(() => expect(runButtons(element)).toEqual(['cleanup']));
  });
});
