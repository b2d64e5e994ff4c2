import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { page } from 'vitest/browser';
import type { DashboardRun, DashboardSnapshot, DashboardSource, DashboardTask } from '../protocol.js';
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
    this.dispatchEvent(new MessageEvent(type, { data: typeof data === 'string' ? data : JSON.stringify(data) }));
  }

  fail(): void {
    this.dispatchEvent(new Event('error'));
  }

  close(): void {
    this.closed = true;
  }
}

const RealEventSource = globalThis.EventSource;
const mounted: HTMLElement[] = [];
const uncaught: unknown[] = [];
const onError = (event: ErrorEvent) => uncaught.push(event.error ?? event.message);
const onRejection = (event: PromiseRejectionEvent) => uncaught.push(event.reason);

beforeEach(() => {
  FakeEventSource.instances = [];
  uncaught.length = 0;
  window.addEventListener('error', onError);
  window.addEventListener('unhandledrejection', onRejection);
});

afterEach(() => {
  for (const element of mounted.splice(0)) element.remove();
  globalThis.EventSource = RealEventSource;
  window.removeEventListener('error', onError);
  window.removeEventListener('unhandledrejection', onRejection);
});

function mount(setup: (element: TaskbufferDashboard) => void): TaskbufferDashboard {
  const element = document.createElement('taskbuffer-dashboard');
  element.theme = 'light';
  setup(element);
  document.body.append(element);
  mounted.push(element);
  return element;
}

const shadow = (element: TaskbufferDashboard) => element.shadowRoot!;

function task(name: string, overrides: Partial<DashboardTask> = {}): DashboardTask {
  return { name, status: 'idle', steps: [], currentProgress: 0, runCount: 0, labels: {}, errorCount: 0, ...overrides };
}

function snapshot(overrides: Partial<DashboardSnapshot> = {}): DashboardSnapshot {
  return {
    protocol: 1,
    time: Date.now(),
    tasks: [task('alpha')],
    scheduled: [],
    nextRuns: [],
    constraintGroups: [],
    actions: {},
    ...overrides,
  };
}

/** Mounts a remote dashboard on a fake event stream. */
async function mountRemote(): Promise<{ element: TaskbufferDashboard; stream: () => FakeEventSource }> {
  globalThis.EventSource = FakeEventSource as unknown as typeof EventSource;
  const element = mount((el) => (el.src = '/taskbuffer/events'));
  await element.updateComplete;
  return { element, stream: () => FakeEventSource.instances.at(-1)! };
}

const problemText = (element: TaskbufferDashboard) =>
  shadow(element).querySelector('[data-problem]')?.textContent?.trim() ?? '';
const rowNames = (element: TaskbufferDashboard) =>
  [...shadow(element).querySelectorAll('[role="listitem"]')].map((row) => row.getAttribute('data-task'));

describe('TaskbufferDashboard bad input', () => {
  it('shows a message that is not JSON as a problem and goes on with the next good one', async () => {
    const { element, stream } = await mountRemote();
    stream().send('snapshot', '<html><body>502 Bad Gateway</body></html>');
    await element.updateComplete;
    expect(problemText(element)).toContain('The server sent a snapshot that is not JSON');
    expect(problemText(element)).toContain('still listening');
    stream().send('snapshot', snapshot());
    await vi.waitFor(() => expect(rowNames(element)).toEqual(['alpha']));
    expect(element.connectionState).toBe('live');
    stream().send('update', '{"protocol":1,"tasks":');
    await element.updateComplete;
    expect(problemText(element)).toContain('Skipped 2 messages');
    expect(uncaught).toEqual([]);
  });

  it('skips messages of an unknown protocol version and events of unknown types, and keeps going', async () => {
    const { element, stream } = await mountRemote();
    stream().send('snapshot', snapshot());
    await vi.waitFor(() => expect(element.connectionState).toBe('live'));
    stream().send('update', { protocol: 2, time: 1, tasks: [task('alpha', { status: 'running' })], events: [] });
    await element.updateComplete;
    expect(problemText(element)).toContain('The server speaks protocol version 2; this page understands version 1');
    expect(shadow(element).querySelector('[data-status]')!.textContent).toBe('idle');
    stream().send('update', {
      protocol: 1,
      time: 2,
      tasks: [task('alpha', { status: 'completed', runCount: 1 })],
      events: [
        { type: 'completed', taskName: 'alpha', timestamp: 2 },
        { type: 'teleported', taskName: 'alpha', timestamp: 2 },
      ],
      droppedEvents: 0,
    });
    await vi.waitFor(() => expect(shadow(element).querySelector('[data-status]')!.textContent).toBe('completed'));
    expect(problemText(element)).toContain('An update had 1 malformed or unknown entries');
    expect(shadow(element).querySelector('[aria-label="Recent events"]')!.textContent).not.toContain('teleported');
    expect(uncaught).toEqual([]);
  });

  it('shows a source that disconnects as disconnected, keeps the picture, and reconnects on its own', async () => {
    const { element, stream } = await mountRemote();
    stream().send('snapshot', snapshot());
    await vi.waitFor(() => expect(element.connectionState).toBe('live'));
    const first = stream();
    first.fail();
    await element.updateComplete;
    expect(first.closed).toBe(true);
    expect(element.connectionState).toBe('disconnected');
    expect(shadow(element).querySelector('[role="alert"]')!.textContent).toMatch(/Disconnected[\s\S]*Retrying in 1 s/);
    expect(rowNames(element)).toEqual(['alpha']);
    // The first retry comes after about a second.
    await vi.waitFor(() => expect(FakeEventSource.instances).toHaveLength(2), { timeout: 5000 });
    stream().send('snapshot', snapshot({ tasks: [task('alpha'), task('beta')] }));
    await vi.waitFor(() => expect(rowNames(element)).toEqual(['alpha', 'beta']));
    expect(element.connectionState).toBe('live');
    expect(uncaught).toEqual([]);
  });

  it("shows a source's own problem until it reports it solved", async () => {
    const { element, stream } = await mountRemote();
    stream().send('snapshot', snapshot());
    stream().send('problem', { message: 'The shared store is unreachable' });
    await vi.waitFor(() => expect(problemText(element)).toBe('The shared store is unreachable'));
    stream().send('problem', { message: null });
    await vi.waitFor(() => expect(problemText(element)).toBe(''));
    expect(uncaught).toEqual([]);
  });

  it('retries a src that answers something that is not an event stream', async () => {
    // The test server answers this with JSON, not text/event-stream.
    const element = mount((el) => (el.src = '/package.json'));
    await vi.waitFor(() => expect(element.connectionState).toBe('disconnected'), { timeout: 5000 });
    await element.updateComplete;
    expect(shadow(element).querySelector('[role="alert"]')!.textContent).toMatch(/Retrying in \d+ s/);
    expect(uncaught).toEqual([]);
  });

  it('shows a source in the page whose snapshot or subscription throws, without throwing', async () => {
    const broken: DashboardSource = {
      getSnapshot: () => Promise.reject(new Error('store is down')),
      subscribe: () => {
        throw new Error('cannot subscribe');
      },
    };
    const element = mount((el) => (el.source = broken));
    await vi.waitFor(() => expect(problemText(element)).toBe('The dashboard source failed: store is down'));
    expect(uncaught).toEqual([]);
  });
});

describe('TaskbufferDashboard layout', () => {
  const longName = 'acme:renew-cert:acme-shop-eu-west-1-production-wildcard';
  const now = Date.now();
  const runs: DashboardRun[] = [];
  const tasks: DashboardTask[] = [];
  for (let index = 0; index < 12; index++) {
    const name = index === 0 ? longName : `${index % 2 ? 'acme' : 'globex'}:task-${index}`;
    tasks.push(
      task(name, {
        status: index % 3 === 0 ? 'failed' : 'completed',
        labels: { tenantId: index % 2 ? 'acme' : 'globex', region: 'eu-west-1' },
        runCount: 120,
        lastRun: now - 5000,
        averageDuration: 1234,
        cronSchedule: index % 4 === 0 ? '*/15 * * * * *' : undefined,
        lastError: index % 3 === 0 ? 'Upstream certificate authority answered 503 Service Unavailable after 3 retries' : undefined,
        errorCount: index % 3 === 0 ? 3 : 0,
      }),
    );
    for (let run = 0; run < 5; run++) {
      runs.push({
        id: `${index}-${run}`,
        taskName: name,
        status: run === 2 ? 'failed' : 'completed',
        startedAt: now - (run + 1) * 40_000,
        endedAt: now - (run + 1) * 40_000 + 15_000,
      });
    }
  }
  const full = snapshot({
    tasks,
    runs,
    actions: { trigger: 'tasks/{name}/trigger' },
    scheduled: [{ name: longName, schedule: '*/15 * * * * *', nextRun: now + 10_000, timezone: 'Europe/Berlin' }],
    nextRuns: [{ taskName: longName, nextRun: now + 10_000, schedule: '*/15 * * * * *' }],
    constraintGroups: [
      {
        name: 'per-domain',
        maxConcurrent: 1,
        cooldownMs: 2500,
        keys: [{ key: 'shop.acme.com', running: 1, queued: 2, cooldownRemainingMs: 1000 }],
      },
    ],
  });

  it.each([
    [1280, 800],
    [1440, 900],
    [390, 844],
  ])('at %i×%i no panel scrolls sideways and every control is visible', async (width, height) => {
    await page.viewport(width, height);
    const { element, stream } = await mountRemote();
    stream().send('snapshot', full);
    await vi.waitFor(() => expect(rowNames(element)).toHaveLength(12));
    shadow(element).querySelector<HTMLButtonElement>(`[data-task="${longName}"] button.task-name`)!.click();
    shadow(element).querySelector<HTMLButtonElement>('button.table-toggle')!.click();
    await element.updateComplete;
    const root = shadow(element);

    const overflowing = [element, ...root.querySelectorAll<HTMLElement>('section, .task-row, .side-list li, .group, .run-table, header')]
      .filter((box) => box.scrollWidth > box.clientWidth)
      .map((box) => `${box.tagName.toLowerCase()}.${box.className} ${box.scrollWidth} > ${box.clientWidth}`);
    expect(overflowing).toEqual([]);
    expect(document.documentElement.scrollWidth).toBeLessThanOrEqual(window.innerWidth);

    const controls = [...root.querySelectorAll<HTMLElement>('button, select, canvas')];
    expect(controls.length).toBeGreaterThan(20);
    const hidden = controls
      .filter((control) => {
        const rect = control.getBoundingClientRect();
        return rect.width === 0 || rect.height === 0 || rect.left < 0 || rect.right > window.innerWidth;
      })
      .map((control) => control.getAttribute('aria-label') ?? control.textContent!.trim());
    expect(hidden).toEqual([]);
    // The Run buttons keep off the panel's edge.
    const panel = root.querySelector('section[aria-label="Tasks"]')!.getBoundingClientRect();
    for (const button of root.querySelectorAll('button[aria-label^="Run "]')) {
      expect(button.getBoundingClientRect().right).toBeLessThanOrEqual(panel.right - 8);
    }

    // The long name shows whole, wrapped, not only in a tooltip.
    const name = root.querySelector<HTMLElement>(`[data-task="${longName}"] button.task-name`)!;
    expect(name.textContent!.trim()).toBe(longName);
    expect(name.scrollWidth).toBeLessThanOrEqual(name.clientWidth);
    // The cron chip draws its clock, no emoji that needs a font.
    expect(root.textContent).not.toContain('⏱');
    expect(root.querySelector('.chip.cron svg.icon')).not.toBeNull();
    expect(uncaught).toEqual([]);
  });
});
