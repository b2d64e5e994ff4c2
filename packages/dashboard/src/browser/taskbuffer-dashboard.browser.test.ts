import { Task, TaskManager } from '@taskbuffer/core';
import type { ConstraintGroupPort, ITaskEvent } from '@taskbuffer/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import './define.js';
import type { DashboardConnectionState, TaskbufferDashboard } from './taskbuffer-dashboard.js';

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

function shadow(element: TaskbufferDashboard): ShadowRoot {
  return element.shadowRoot!;
}

function rowNames(element: TaskbufferDashboard): string[] {
  return [...shadow(element).querySelectorAll('[role="listitem"]')].map((row) => row.getAttribute('data-task')!);
}

function progressOf(element: TaskbufferDashboard, name: string): HTMLElement {
  const bar = shadow(element).querySelector<HTMLElement>(`[data-task="${name}"] [role="progressbar"]`);
  if (bar === null) throw new Error(`no progress bar for ${name}`);
  return bar;
}

/** Resolves after the next two animation frames: the batched render has run. */
function frames(count = 2): Promise<void> {
  return new Promise((resolve) => {
    const step = (left: number) => (left === 0 ? resolve() : requestAnimationFrame(() => step(left - 1)));
    step(count);
  });
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('TaskbufferDashboard', () => {
  describe('taskManager', () => {
    it('renders every task of the manager with status, labels and run count', async () => {
      const manager = new TaskManager();
      manager.addTask(new Task({ name: 'alpha', labels: { tenantId: 'acme' }, taskFunction: () => 1 }));
      manager.addTask(new Task({ name: 'beta', taskFunction: () => 2 }));
      await manager.triggerTaskByName('beta');
      const element = mount((el) => (el.taskManager = manager));
      await element.updateComplete;
      expect(rowNames(element)).toEqual(['alpha', 'beta']);
      const alpha = shadow(element).querySelector('[data-task="alpha"]')!;
      expect(alpha.textContent).toContain('tenantId=acme');
      expect(alpha.querySelector('[data-status]')!.textContent).toBe('idle');
      const beta = shadow(element).querySelector('[data-task="beta"]')!;
      expect(beta.querySelector('[data-status]')!.textContent).toBe('completed');
      expect(beta.querySelector('.numeric')!.textContent!.trim()).toBe('1');
      expect(element.connectionState).toBe('local');
    });

    it('moves the progress bar and step indicators as events arrive', async () => {
      const manager = new TaskManager();
      const gates = [deferred(), deferred(), deferred()];
      const task: Task<undefined, any> = new Task({
        name: 'deploy',
        steps: [
          { name: 'build', description: 'Building', percentage: 50 },
          { name: 'ship', description: 'Shipping', percentage: 50 },
        ] as const,
        taskFunction: async () => {
          task.notifyStep('build');
          await gates[0]!.promise;
          task.notifyStep('ship');
          await gates[1]!.promise;
        },
      });
      manager.addTask(task);
      // Polling off: only the event stream can move the bar.
      const element = mount((el) => {
        el.taskManager = manager;
        el.refreshInterval = 0;
      });
      await element.updateComplete;
      const bar = progressOf(element, 'deploy');
      expect(bar.getAttribute('aria-valuenow')).toBe('0');
      expect(bar.getAttribute('aria-valuemin')).toBe('0');
      expect(bar.getAttribute('aria-valuemax')).toBe('100');

      const run = manager.triggerTask(task);
      await frames();
      expect(progressOf(element, 'deploy').getAttribute('aria-valuetext')).toBe('0%, build');
      expect(shadow(element).querySelector('[data-task="deploy"] [data-status]')!.textContent).toBe('running');

      gates[0]!.resolve();
      await vi.waitFor(() => expect(progressOf(element, 'deploy').getAttribute('aria-valuenow')).toBe('50'));
      const segments = [...progressOf(element, 'deploy').querySelectorAll('.segment')].map((segment) =>
        segment.classList.contains('completed') ? 'completed' : segment.classList.contains('active') ? 'active' : 'pending',
      );
      expect(segments).toEqual(['completed', 'active']);

      gates[1]!.resolve();
      await run;
      await vi.waitFor(() => expect(progressOf(element, 'deploy').getAttribute('aria-valuenow')).toBe('100'));
      const history = shadow(element).querySelector('[aria-label="Recent events"]')!.textContent!;
      expect(history).toContain('completed');
      expect(history).toContain('ship');
    });

    it('shows the last error of a failed task', async () => {
      const manager = new TaskManager();
      manager.addTask(
        new Task({
          name: 'flaky',
          taskFunction: () => {
            throw new Error('upstream timed out');
          },
        }),
      );
      const element = mount((el) => {
        el.taskManager = manager;
        el.refreshInterval = 0;
      });
      await element.updateComplete;
      await expect(manager.triggerTaskByName('flaky')).rejects.toThrow('upstream timed out');
      await vi.waitFor(() => {
        const row = shadow(element).querySelector('[data-task="flaky"]')!;
        expect(row.querySelector('[data-status]')!.textContent).toBe('failed');
        expect(row.querySelector('.error-text')!.textContent).toContain('upstream timed out');
      });
    });

    it('throws a TypeError for something that is not a manager, and accepts undefined', async () => {
      const element = mount();
      expect(() => {
        element.taskManager = {} as never;
      }).toThrow(new TypeError('Expected `taskManager` to be a TaskManager, got `{}` (object)'));
      const manager = new TaskManager();
      element.taskManager = manager;
      await element.updateComplete;
      expect(element.connectionState).toBe('local');
      element.taskManager = undefined;
      await element.updateComplete;
      expect(element.connectionState).toBe('idle');
      expect(manager.taskSubject.observed).toBe(false);
    });

    it('prefers a manager set right after connecting over an earlier src', async () => {
      const manager = new TaskManager();
      manager.addTask(new Task({ name: 'local-task', taskFunction: () => 1 }));
      const element = mount((el) => (el.src = '/no-such-taskbuffer-endpoint/events'));
      element.taskManager = manager;
      await element.updateComplete;
      expect(element.connectionState).toBe('local');
      expect(rowNames(element)).toEqual(['local-task']);
    });

    it('picks up added tasks on the next refresh', async () => {
      const manager = new TaskManager();
      manager.addTask(new Task({ name: 'first', taskFunction: () => 1 }));
      const element = mount((el) => {
        el.taskManager = manager;
        el.refreshInterval = 50;
      });
      await element.updateComplete;
      manager.addTask(new Task({ name: 'second', taskFunction: () => 2 }));
      await vi.waitFor(() => expect(rowNames(element)).toEqual(['first', 'second']));
      manager.removeTask('first');
      await vi.waitFor(() => expect(rowNames(element)).toEqual(['second']));
    });

    it('shows constraint groups with running, queued and cooling keys', async () => {
      const manager = new TaskManager();
      const group: ConstraintGroupPort = {
        name: 'per-domain',
        maxConcurrent: 1,
        cooldownMs: 0,
        createConstraintEngine: (host) => ({
          addGroup: () => undefined,
          removeGroup: () => undefined,
          run: (task, input) => host.execute(task, input, () => undefined),
          stop: () => undefined,
        }),
        getSnapshot: () => ({
          name: 'per-domain',
          maxConcurrent: 1,
          cooldownMs: 5000,
          keys: [
            { key: 'a.com', running: 1, queued: 2, cooldownRemainingMs: 0 },
            { key: 'b.com', running: 0, queued: 0, cooldownRemainingMs: 4000 },
          ],
        }),
      };
      manager.addConstraintGroup(group);
      const element = mount((el) => (el.taskManager = manager));
      await element.updateComplete;
      const section = shadow(element).querySelector('[data-group="per-domain"]')!;
      const cells = (key: string) =>
        [...section.querySelectorAll(`[data-key="${key}"] td`)].map((cell) => cell.textContent!.trim());
      expect(cells('a.com')).toEqual(['a.com', '1', '2', '—']);
      expect(cells('b.com')[3]).toMatch(/^[34](\.\d)? s$/);
      expect(section.textContent).toContain('cooldown 5.0 s');
    });
  });

  describe('label', () => {
    it('shows only the tasks of one tenant', async () => {
      const manager = new TaskManager();
      manager.addTask(new Task({ name: 'acme-sync', labels: { tenantId: 'acme' }, taskFunction: () => 1 }));
      manager.addTask(new Task({ name: 'globex-sync', labels: { tenantId: 'globex' }, taskFunction: () => 1 }));
      manager.addTask(new Task({ name: 'unlabelled', taskFunction: () => 1 }));
      const element = mount((el) => (el.taskManager = manager));
      await element.updateComplete;
      const options = [...shadow(element).querySelectorAll('select.label-select option')].map((option) => option.getAttribute('value'));
      expect(options).toEqual(['', 'tenantId=acme', 'tenantId=globex']);

      element.label = 'tenantId=globex';
      await element.updateComplete;
      expect(rowNames(element)).toEqual(['globex-sync']);

      const select = shadow(element).querySelector<HTMLSelectElement>('select.label-select')!;
      select.value = 'tenantId=acme';
      select.dispatchEvent(new Event('change'));
      await element.updateComplete;
      expect(element.label).toBe('tenantId=acme');
      expect(rowNames(element)).toEqual(['acme-sync']);

      element.label = 'tenantId';
      await element.updateComplete;
      expect(rowNames(element)).toEqual(['acme-sync', 'globex-sync']);
    });
  });

  describe('theme', () => {
    it('switches between light and dark and reflects the choice as an attribute', async () => {
      const element = mount((el) => (el.theme = 'light'));
      await element.updateComplete;
      const lightBackground = getComputedStyle(element).backgroundColor;
      expect(element.getAttribute('theme')).toBe('light');

      element.theme = 'dark';
      await element.updateComplete;
      const darkBackground = getComputedStyle(element).backgroundColor;
      expect(darkBackground).not.toBe(lightBackground);
      expect(darkBackground).toBe('rgb(14, 18, 25)');

      shadow(element).querySelector<HTMLButtonElement>('button.theme')!.click();
      await element.updateComplete;
      expect(element.getAttribute('theme')).toBe('auto');
    });
  });

  describe('src', () => {
    it('shows a retrying "disconnected" state when the endpoint cannot be reached', async () => {
      const states: DashboardConnectionState[] = [];
      const errors: unknown[] = [];
      const onError = (event: ErrorEvent) => errors.push(event.error);
      window.addEventListener('error', onError);
      const element = mount((el) => {
        el.src = '/no-such-taskbuffer-endpoint/events';
        el.addEventListener('connection-change', (event) =>
          states.push((event as CustomEvent<{ state: DashboardConnectionState }>).detail.state),
        );
      });
      try {
        await vi.waitFor(() => expect(element.connectionState).toBe('disconnected'), { timeout: 5000 });
        await element.updateComplete;
        const banner = shadow(element).querySelector('[role="alert"]')!;
        expect(banner.textContent).toContain('Disconnected');
        expect(banner.textContent).toMatch(/Retrying in \d+ s/);
        expect(banner.textContent).toContain('/no-such-taskbuffer-endpoint/events');
        // The first retry comes after about a second, and fails again.
        await vi.waitFor(() => expect(states.filter((state) => state === 'disconnected').length).toBe(2), {
          timeout: 5000,
        });
        expect(states.slice(0, 4)).toEqual(['connecting', 'disconnected', 'connecting', 'disconnected']);
        expect(errors).toEqual([]);
      } finally {
        window.removeEventListener('error', onError);
      }
    });
  });

  describe('performance', () => {
    it('renders 1,000 tasks and keeps up with 1,000 events per second, one render per frame', async () => {
      const manager = new TaskManager();
      const tasks: Task<undefined, any>[] = [];
      for (let index = 0; index < 1000; index++) {
        const task: Task<undefined, any> = new Task({
          name: `task-${String(index).padStart(4, '0')}`,
          labels: { tenantId: index % 2 === 0 ? 'acme' : 'globex' },
          steps: [
            { name: 'one', description: 'One', percentage: 50 },
            { name: 'two', description: 'Two', percentage: 50 },
          ] as const,
          taskFunction: () => {
            task.notifyStep('one');
            task.notifyStep('two');
          },
        });
        tasks.push(task);
        manager.addTask(task);
      }
      const element = mount((el) => {
        el.refreshInterval = 0;
      });
      await element.updateComplete;

      const started = performance.now();
      element.taskManager = manager;
      await element.updateComplete;
      // Force style and layout so the figure includes them, not only the template work.
      void shadow(element).querySelector('section')!.getBoundingClientRect();
      const firstRender = performance.now() - started;
      expect(rowNames(element)).toHaveLength(1000);

      let renders = 0;
      let longestRender = 0;
      // Count the element's update cycles (Lit's protected `performUpdate`) from outside.
      const instrumented = element as unknown as { performUpdate(): void };
      const original = instrumented.performUpdate.bind(element);
      instrumented.performUpdate = () => {
        const begin = performance.now();
        original();
        renders++;
        longestRender = Math.max(longestRender, performance.now() - begin);
      };
      let frameCount = 0;
      let counting = true;
      const countFrames = () => {
        frameCount++;
        if (counting) requestAnimationFrame(countFrames);
      };
      requestAnimationFrame(countFrames);

      // Four events per run (started, two steps, completed), paced to 1,000 events per second for two seconds.
      const seen: ITaskEvent[] = [];
      const subscription = manager.taskSubject.subscribe((event) => seen.push(event));
      const streamStart = performance.now();
      let runs = 0;
      while (runs < 500) {
        const due = Math.min(500, Math.floor(((performance.now() - streamStart) / 1000) * 250) + 1);
        while (runs < due) await tasks[runs++ % 1000]!.trigger();
        await new Promise((resolve) => setTimeout(resolve, 4));
      }
      const streamSeconds = (performance.now() - streamStart) / 1000;
      await frames();
      counting = false;
      subscription.unsubscribe();

      const eventsPerSecond = seen.length / streamSeconds;
      expect(seen.length).toBe(2000);
      // Renders are batched per frame: never more renders than frames (plus the ticker's once a second).
      expect(renders).toBeLessThanOrEqual(frameCount + Math.ceil(streamSeconds) + 2);
      expect(renders).toBeGreaterThan(0);
      // Every run shows as completed at 100% once the batch has rendered.
      expect(eventsPerSecond).toBeGreaterThan(500);
      const bar = progressOf(element, 'task-0499');
      expect(bar.getAttribute('aria-valuenow')).toBe('100');
      expect(firstRender).toBeLessThan(5000);
      console.log(
        `[dashboard perf] first render of 1,000 tasks: ${firstRender.toFixed(0)} ms; ` +
          `${seen.length} events in ${streamSeconds.toFixed(2)} s (${eventsPerSecond.toFixed(0)}/s): ` +
          `${renders} renders over ${frameCount} frames, longest render ${longestRender.toFixed(1)} ms`,
      );
    });
  });
});
