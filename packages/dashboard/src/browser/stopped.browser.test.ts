import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DashboardSnapshot } from '../protocol.js';
import './define.js';
import type { TaskbufferDashboard } from './taskbuffer-dashboard.js';

/** Stands in for `EventSource`: the test sends the messages a server would. */
class FakeEventSource extends EventTarget {
  static instances: FakeEventSource[] = [];
  readonly url: string;
  closed = false;

  constructor(url: string | URL) {
    super();
    this.url = String(url);
    FakeEventSource.instances.push(this);
  }

  send(type: string, data: unknown): void {
    this.dispatchEvent(new MessageEvent(type, { data: JSON.stringify(data) }));
  }

  close(): void {
    this.closed = true;
  }
}

const RealEventSource = globalThis.EventSource;
const mounted: HTMLElement[] = [];

afterEach(() => {
  for (const element of mounted.splice(0)) element.remove();
  globalThis.EventSource = RealEventSource;
  FakeEventSource.instances = [];
});

const snapshot: DashboardSnapshot = {
  protocol: 1,
  time: Date.now(),
  tasks: [{ name: 'alpha', status: 'completed', steps: [], currentProgress: 100, runCount: 1, labels: {}, errorCount: 0 }],
  scheduled: [],
  nextRuns: [],
  constraintGroups: [],
  actions: {},
};

describe('TaskbufferDashboard', () => {
  it('shows a stopped manager as stopped, keeps the picture, does not reconnect, and reconnects on request', async () => {
    globalThis.EventSource = FakeEventSource as unknown as typeof EventSource;
    const element = document.createElement('taskbuffer-dashboard');
    element.theme = 'light';
    element.src = '/taskbuffer/events';
    document.body.append(element);
    mounted.push(element);
    await element.updateComplete;
    const stream = FakeEventSource.instances[0]!;
    stream.send('snapshot', snapshot);
    await vi.waitFor(() => expect(element.connectionState).toBe('live'));
    stream.send('stopped', {});
    await vi.waitFor(() => expect(element.connectionState).toBe('stopped'));
    expect(stream.closed).toBe(true);
    const shadow = element.shadowRoot!;
    await element.updateComplete;
    expect(shadow.querySelector('.connection')!.textContent!.trim()).toBe('stopped');
    expect(shadow.querySelector('.banner.stopped')!.textContent).toContain('has stopped');
    expect(shadow.querySelector('[data-task="alpha"]')).not.toBeNull();
    // No retry of its own.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(FakeEventSource.instances).toHaveLength(1);
    (shadow.querySelector('.banner.stopped button') as HTMLButtonElement).click();
    await vi.waitFor(() => expect(FakeEventSource.instances).toHaveLength(2));
    expect(element.connectionState).toBe('connecting');
  });
});
