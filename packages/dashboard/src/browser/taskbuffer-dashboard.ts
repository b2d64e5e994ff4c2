import { LitElement, type PropertyValues, type TemplateResult, html, nothing } from 'lit';
import { guard } from 'lit/directives/guard.js';
import { repeat } from 'lit/directives/repeat.js';
import { styleMap } from 'lit/directives/style-map.js';
import { DashboardState, type LabelFilter, matchesLabel, parseLabelFilter } from '../dashboard-state.js';
import { invalidOption } from '../errors.js';
import { assertManager, createLocalDashboardSource } from '../local-source.js';
import type {
  DashboardEvent,
  DashboardManager,
  DashboardRun,
  DashboardSnapshot,
  DashboardSource,
  DashboardTask,
} from '../protocol.js';
import { runDuration, runStats } from '../run-stats.js';
import { readSnapshot, readUpdate } from '../wire.js';
import { dashboardStyles } from './styles.js';
import {
  type TimelineColors,
  type TimelineLane,
  type TimelineView,
  drawTimeline,
  runAt,
  countVisibleRuns,
  runBegin,
  timelineHeight,
  visibleRuns,
} from './timeline-model.js';

/** `auto` follows `prefers-color-scheme`. */
export type DashboardTheme = 'auto' | 'light' | 'dark';

/**
 * `idle`: nothing to watch; `local`: a manager in this page; `connecting`,
 * `live` and `disconnected`: a remote manager over Server-Sent Events.
 */
/**
 * `stopped`: the server said the manager it shows has stopped (a final
 * `stopped` event); the element keeps the last picture and does not reconnect
 * until `reconnect()` (or the "Reconnect" button).
 */
export type DashboardConnectionState = 'idle' | 'local' | 'connecting' | 'live' | 'disconnected' | 'stopped';

const RETRY_MIN_MS = 1000;
/** Zoom levels of the timeline, in minutes. */
const ZOOM_MINUTES = [1, 2, 5, 10, 15, 30, 60] as const;
const LANE_HEIGHT = 16;
const AXIS_HEIGHT = 20;
const GUTTER = 150;
/** Rows of the table view of the timeline. */
const TABLE_LIMIT = 500;
/** Runs listed in a task's history panel. */
const HISTORY_LIST_LIMIT = 30;
const RETRY_MAX_MS = 15_000;
const THEMES: readonly DashboardTheme[] = ['auto', 'light', 'dark'];

const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});

function formatTime(epoch: number | undefined): string {
  return epoch === undefined ? '—' : timeFormat.format(epoch);
}

function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A short line about a run, for its tooltip and the live region. */
function describeRun(run: DashboardRun, now: number): string {
  const parts = [`${run.taskName}: ${run.status}`];
  const begin = run.startedAt ?? run.queuedAt ?? run.endedAt;
  if (begin !== undefined) parts.push(`at ${formatTime(begin)}`);
  const duration = runDuration(run) ?? (run.status === 'running' && run.startedAt !== undefined ? now - run.startedAt : undefined);
  if (duration !== undefined) parts.push(`took ${formatDuration(duration)}`);
  if (run.queuedAt !== undefined) {
    const waited = (run.startedAt ?? run.endedAt ?? now) - run.queuedAt;
    parts.push(`waited ${formatDuration(waited)}${run.waitedOn ? ` on ${run.waitedOn}` : ''}${run.cooldownMs ? ' (cooldown)' : ''}`);
  }
  if (run.attempt !== undefined) parts.push(`attempt ${run.attempt + 1}`);
  if (run.instanceId !== undefined) parts.push(`instance ${run.instanceId}`);
  if (run.tick !== undefined) parts.push(`tick ${formatTime(run.tick)}`);
  if (run.fence !== undefined) parts.push(`fence ${run.fence}`);
  if (run.input !== undefined) parts.push(`input ${run.input}`);
  if (run.reason !== undefined) parts.push(run.reason);
  if (run.error !== undefined) parts.push(`error: ${run.error}`);
  return parts.join(' · ');
}

function formatIn(target: number, now: number): string {
  const delta = target - now;
  if (delta <= 0) return 'due';
  return `in ${formatDuration(delta)}`;
}

function requestFrame(callback: () => void): () => void {
  if (typeof requestAnimationFrame === 'function') {
    const handle = requestAnimationFrame(() => callback());
    return () => cancelAnimationFrame(handle);
  }
  const handle = setTimeout(callback, 16);
  return () => clearTimeout(handle);
}

/** Whether a task runs on the instance (tasks of a single manager list no instances: always). */
function onInstance(task: DashboardTask, instance: string | undefined): boolean {
  return instance === undefined || task.instances === undefined || task.instances.includes(instance);
}

/**
 * `<taskbuffer-dashboard>`: every task of a manager with status, progress and
 * steps, its schedules, constraint groups and recent events, live.
 *
 * Watch a manager in the same page with `dashboard.taskManager = manager`, or
 * one in a Node process with `src` pointing at the events endpoint served by
 * `createDashboardHandler()` from `@taskbuffer/dashboard/server`.
 *
 * @example
 * ```html
 * <taskbuffer-dashboard src="/taskbuffer/events"></taskbuffer-dashboard>
 * ```
 */
export class TaskbufferDashboard extends LitElement {
  static override styles = dashboardStyles;

  static override properties = {
    taskManager: { attribute: false, noAccessor: true },
    source: { attribute: false },
    timelineMinutes: { type: Number, attribute: 'timeline-minutes' },
    timelineEnd: { attribute: false },
    refreshInterval: { type: Number, attribute: 'refresh-interval' },
    src: { type: String },
    theme: { type: String, reflect: true },
    label: { type: String },
    instance: { type: String },
    historySize: { type: Number, attribute: 'history-size' },
    heading: { type: String },
  };

  #taskManager: DashboardManager | undefined;

  /**
   * A manager in the same page. Its events show as they happen; everything
   * else is refreshed every `refreshInterval` ms. Takes precedence over `src`.
   */
  get taskManager(): DashboardManager | undefined {
    return this.#taskManager;
  }

  set taskManager(manager: DashboardManager | undefined) {
    if (manager !== undefined && manager !== null) assertManager(manager, 'taskManager');
    const previous = this.#taskManager;
    this.#taskManager = manager ?? undefined;
    this.requestUpdate('taskManager', previous);
  }
  /**
   * With `taskManager`: how often the whole picture is refreshed, in ms; `0`
   * refreshes only on events. Not used with `src`, where the server pushes.
   * @default 1000
   */
  declare refreshInterval: number;
  /** The URL of a dashboard server's events endpoint, e.g. `/taskbuffer/events`. */
  declare src: string | undefined;
  /** @default 'auto' */
  declare theme: DashboardTheme;
  /** Shows only tasks with this label: `tenantId=acme`, or `tenantId` for any value. */
  declare label: string | undefined;
  /**
   * With a source that merges a cluster: shows only this instance's tasks,
   * runs and events. The page offers the instances it knows.
   */
  declare instance: string | undefined;
  /** How many recent events the history keeps. @default 50 */
  declare historySize: number;
  /** @default 'taskbuffer' */
  declare heading: string;
  /**
   * A dashboard source in the same page, e.g. `createLocalDashboardSource(manager)`
   * made when the manager starts, so the run history goes back further than the
   * element. Takes precedence over `taskManager` and `src`.
   */
  declare source: DashboardSource | undefined;
  /** The span of the run timeline, in minutes (1–60). @default 5 */
  declare timelineMinutes: number;
  /**
   * Epoch ms at the timeline's right edge; `undefined` follows now (the
   * "Follow now" button). Panning sets it.
   */
  declare timelineEnd: number | undefined;

  readonly #state = new DashboardState();
  #connection: DashboardConnectionState = 'idle';
  #teardown: (() => void) | undefined;
  /** What the current connection was made for; a change of any of it reconnects. */
  #watched:
    | {
        manager: DashboardManager | undefined;
        source: DashboardSource | undefined;
        src: string | undefined;
        refreshInterval: number;
      }
    | undefined;
  #cancelFrame: (() => void) | undefined;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retryAt = 0;
  #retryAttempt = 0;
  #eventsUrl: URL | undefined;
  #notice = '';
  /** What went wrong with the data (not the connection): a bad message, a source's own outage. */
  #problem: string | undefined;
  #skippedMessages = 0;
  #renderedVersion = -1;
  #focusedRun: DashboardRun | undefined;
  #hoveredRun: DashboardRun | undefined;
  #showTable = false;
  #historyTask: string | undefined;
  #timelineView: TimelineView | undefined;
  #resizeObserver: ResizeObserver | undefined;
  #timelineWidth = 0;
  #scrollPending = false;
  #timelineScrollTop = 0;
  /** The timeline's colours, read from the custom properties once per theme. */
  #colorCache: { theme: string; colors: TimelineColors } | undefined;

  constructor() {
    super();
    this.refreshInterval = 1000;
    this.src = undefined;
    this.theme = 'auto';
    this.label = undefined;
    this.instance = undefined;
    this.historySize = 50;
    this.heading = 'taskbuffer';
    this.source = undefined;
    this.timelineMinutes = 5;
    this.timelineEnd = undefined;
  }

  /** Where the data comes from, and whether it is flowing. */
  get connectionState(): DashboardConnectionState {
    return this.#connection;
  }

  /** The state being shown (read-only use). */
  get state(): DashboardState {
    return this.#state;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Relative times ("in 3 s", cooldowns, the retry countdown) move on without events.
    this.#ticker = setInterval(() => this.requestUpdate(), 1000);
    this.#watch();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.#ticker);
    this.#ticker = undefined;
    this.#resizeObserver?.disconnect();
    this.#resizeObserver = undefined;
    this.#unwatch();
    this.#watched = undefined;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('historySize')) {
      const size = this.historySize;
      this.#state.historySize = Number.isInteger(size) && size >= 0 ? size : 50;
    }
    const watched = this.#watched;
    if (
      this.isConnected &&
      (watched === undefined ||
        watched.manager !== this.#taskManager ||
        watched.source !== this.source ||
        watched.src !== this.src ||
        ((this.#taskManager !== undefined || this.source !== undefined) && watched.refreshInterval !== this.refreshInterval))
    ) {
      this.#watch();
    }
  }

  protected override updated(): void {
    this.#renderedVersion = this.#state.version;
    this.#drawTimeline();
  }

  /** Connects again at once (after a disconnect). */
  reconnect(): void {
    this.#watch();
  }

  #watch(): void {
    this.#unwatch();
    this.#watched = {
      manager: this.#taskManager,
      source: this.source,
      src: this.src,
      refreshInterval: this.refreshInterval,
    };
    this.#state.reset();
    this.#retryAttempt = 0;
    this.#notice = '';
    this.#problem = undefined;
    this.#skippedMessages = 0;
    this.#focusedRun = undefined;
    this.#hoveredRun = undefined;
    const manager = this.#taskManager;
    if (this.source !== undefined && this.source !== null) this.#watchSource(this.source, false);
    else if (manager !== undefined) {
      const source = createLocalDashboardSource(manager, {
        schedule: requestFrame,
        maxEventsPerUpdate: Math.max(this.historySize, 1),
        keepHistory: false,
      });
      this.#watchSource(source, true);
    } else if (this.src) this.#watchRemote(this.src);
    else this.#setConnection('idle');
  }

  #unwatch(): void {
    this.#teardown?.();
    this.#teardown = undefined;
    this.#cancelFrame?.();
    this.#cancelFrame = undefined;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  #setConnection(connection: DashboardConnectionState): void {
    if (this.#connection === connection) return;
    this.#connection = connection;
    this.requestUpdate();
    this.dispatchEvent(new CustomEvent('connection-change', { detail: { state: connection } }));
  }

  /** Renders at most once per animation frame, however many updates arrive. */
  #scheduleRender(): void {
    if (this.#cancelFrame !== undefined) return;
    this.#cancelFrame = requestFrame(() => {
      this.#cancelFrame = undefined;
      if (this.#state.version !== this.#renderedVersion) this.requestUpdate();
    });
  }

  #watchSource(source: DashboardSource, owned: boolean): void {
    const state = this.#state;
    let active = true;
    const fail = (error: unknown) => {
      if (!active) return;
      this.#problem = `The dashboard source failed: ${error instanceof Error ? error.message : String(error)}`;
      this.requestUpdate();
    };
    const apply = (snapshot: DashboardSnapshot) => {
      if (!active) return;
      state.applySnapshot(snapshot);
      this.#scheduleRender();
    };
    const load = (runs: boolean) => {
      try {
        const result = source.getSnapshot({ runs });
        if (typeof (result as Promise<DashboardSnapshot>).then === 'function') {
          (result as Promise<DashboardSnapshot>).then(apply, fail);
        } else apply(result as DashboardSnapshot);
      } catch (error) {
        fail(error);
      }
    };
    let subscription: { unsubscribe(): void } | undefined;
    try {
      subscription = source.subscribe({
        update: (update) => {
          if (!active) return;
          state.applyUpdate(update);
          // A source made here flushes inside an animation frame: render with this frame.
          if (owned) this.requestUpdate();
          else this.#scheduleRender();
        },
        problem: (message) => {
          if (!active) return;
          this.#problem = message;
          this.requestUpdate();
        },
      });
    } catch (error) {
      fail(error);
    }
    load(true);
    const interval = this.refreshInterval;
    const timer = Number.isFinite(interval) && interval > 0 ? setInterval(() => load(false), interval) : undefined;
    this.#teardown = () => {
      active = false;
      subscription?.unsubscribe();
      clearInterval(timer);
      if (owned) (source as { close?: () => void }).close?.();
    };
    this.#setConnection('local');
  }

  /** Notes a message that could not be used; the stream goes on. */
  #skipMessage(problem: string): void {
    this.#skippedMessages++;
    this.#problem = `${problem}. Skipped ${this.#skippedMessages} message${this.#skippedMessages === 1 ? '' : 's'}; still listening.`;
    this.requestUpdate();
  }

  #watchRemote(src: string): void {
    let url: URL;
    try {
      url = new URL(src, document.baseURI);
    } catch {
      this.#eventsUrl = undefined;
      this.#notice = `Invalid src: ${src}`;
      this.#setConnection('disconnected');
      return;
    }
    this.#eventsUrl = url;
    this.#setConnection('connecting');
    let source: EventSource;
    try {
      source = new globalThis.EventSource(url);
    } catch (error) {
      this.#notice = `Cannot open ${url.href}: ${error instanceof Error ? error.message : String(error)}`;
      this.#retryLater();
      return;
    }
    const state = this.#state;
    let closed = false;
    source.addEventListener('snapshot', (event) => {
      const result = readSnapshot((event as MessageEvent).data);
      if (!result.ok) return this.#skipMessage(result.problem);
      state.applySnapshot(result.value);
      this.#retryAttempt = 0;
      this.#notice = '';
      if (result.dropped > 0) this.#skipMessage(`A snapshot had ${result.dropped} malformed entries`);
      this.#setConnection('live');
      this.#scheduleRender();
    });
    source.addEventListener('update', (event) => {
      const result = readUpdate((event as MessageEvent).data);
      if (!result.ok) return this.#skipMessage(result.problem);
      state.applyUpdate(result.value);
      if (result.dropped > 0) this.#skipMessage(`An update had ${result.dropped} malformed or unknown entries`);
      this.#scheduleRender();
    });
    source.addEventListener('problem', (event) => {
      let message: unknown;
      try {
        message = (JSON.parse(String((event as MessageEvent).data)) as { message?: unknown }).message;
      } catch {
        message = String((event as MessageEvent).data);
      }
      this.#problem = typeof message === 'string' && message !== '' ? message : undefined;
      this.requestUpdate();
    });
    source.addEventListener('stopped', () => {
      // The manager stopped: the stream ends for good, with no retry.
      closed = true;
      source.close();
      this.#setConnection('stopped');
      this.requestUpdate();
    });
    // EventSource retries some failures on its own and gives up on others (an HTTP error,
    // a wrong content type); retrying here, with backoff, covers both the same way.
    source.addEventListener('error', () => {
      if (closed) return;
      closed = true;
      source.close();
      this.#retryLater();
    });
    this.#teardown = () => {
      closed = true;
      source.close();
    };
  }

  #retryLater(): void {
    const delay = Math.min(RETRY_MIN_MS * 2 ** this.#retryAttempt, RETRY_MAX_MS);
    this.#retryAttempt++;
    this.#retryAt = Date.now() + delay;
    this.#setConnection('disconnected');
    this.requestUpdate();
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#unwatch();
      if (this.src) this.#watchRemote(this.src);
    }, delay);
  }

  async #trigger(name: string): Promise<void> {
    const template = this.#state.actions.trigger;
    if (template === undefined || this.#eventsUrl === undefined) return;
    const url = new URL(template.replace('{name}', encodeURIComponent(name)), this.#eventsUrl);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
        credentials: 'same-origin',
      });
      this.#notice = response.ok ? `Triggered ${name}` : `Could not trigger ${name}: HTTP ${response.status}`;
    } catch (error) {
      this.#notice = `Could not trigger ${name}: ${error instanceof Error ? error.message : String(error)}`;
    }
    this.requestUpdate();
  }

  #cycleTheme(): void {
    const index = THEMES.indexOf(this.theme);
    this.theme = THEMES[(index + 1) % THEMES.length]!;
  }

  #onInstanceChange(event: Event): void {
    this.instance = (event.target as HTMLSelectElement).value || undefined;
    this.dispatchEvent(new CustomEvent('instance-change', { detail: { instance: this.instance } }));
  }

  /** The runs of a task, of the chosen instance only when one is chosen. */
  #runsOf(name: string): readonly DashboardRun[] {
    const runs = this.#state.runsOf(name);
    const instance = this.instance || undefined;
    return instance === undefined ? runs : runs.filter((run) => run.instanceId === instance);
  }

  #onFilterChange(event: Event): void {
    this.label = (event.target as HTMLSelectElement).value || undefined;
    this.dispatchEvent(new CustomEvent('label-change', { detail: { label: this.label } }));
  }

  protected override render(): TemplateResult {
    const state = this.#state;
    const filter = parseLabelFilter(this.label);
    const instance = this.instance || undefined;
    const tasks =
      filter === undefined && instance === undefined
        ? state.tasks
        : state.tasks.filter((task) => matchesLabel(task, filter) && onInstance(task, instance));
    let running = 0;
    let failed = 0;
    for (const task of tasks) {
      if (task.status === 'running') running++;
      else if (task.status === 'failed') failed++;
    }
    const now = Date.now();
    return html`
      <header>
        <h1>${this.heading}</h1>
        ${this.#renderConnection()}
        <div class="stats" aria-label="Summary">
          <span><b>${tasks.length}</b> tasks</span>
          <span><b>${running}</b> running</span>
          <span><b>${failed}</b> failed</span>
          ${this.#renderPresence()}
        </div>
        <span class="spacer"></span>
        ${this.#renderInstanceFilter()} ${this.#renderFilter(filter)}
        <button type="button" class="theme" @click=${this.#cycleTheme} title="Switch theme">
          Theme: ${this.theme}
        </button>
      </header>
      ${this.#renderBanner(now)}
      ${this.#problem === undefined
        ? nothing
        : html`<div class="banner warn" role="alert" data-problem><span class="grow">${this.#problem}</span></div>`}
      ${this.#notice && this.#connection !== 'disconnected'
        ? html`<div class="notice" role="status">${this.#notice}</div>`
        : nothing}
      ${this.#renderTimeline(tasks, now)}
      <div class="layout">
        ${this.#renderTasks(tasks)}
        <aside>
          ${this.#renderRunHistory(now)} ${this.#renderScheduled(filter, now)} ${this.#renderGroups(now)}
          ${this.#renderHistory(filter)}
        </aside>
      </div>
    `;
  }

  #renderConnection(): TemplateResult {
    const labels: Record<DashboardConnectionState, string> = {
      idle: 'no source',
      local: 'in-page',
      connecting: 'connecting…',
      live: 'live',
      disconnected: 'disconnected',
      stopped: 'stopped',
    };
    return html`<span class="connection ${this.#connection}" data-state=${this.#connection}
      >${labels[this.#connection]}</span
    >`;
  }

  #renderFilter(filter: LabelFilter | undefined): TemplateResult {
    const pairs = this.#state.labelPairs();
    const current = filter === undefined ? '' : filter.value === undefined ? filter.key : `${filter.key}=${filter.value}`;
    if (current !== '' && !pairs.includes(current)) pairs.unshift(current);
    return html`<label class="filter"
      >Labels
      <select class="label-select" @change=${this.#onFilterChange} .value=${current}>
        <option value="" ?selected=${current === ''}>All tasks</option>
        ${pairs.map((pair) => html`<option value=${pair} ?selected=${pair === current}>${pair}</option>`)}
      </select></label
    >`;
  }

  /** With a source that merges a cluster: how many of its instances are live. */
  #renderPresence(): TemplateResult | typeof nothing {
    const instances = this.#state.instances;
    if (instances.length === 0) return nothing;
    const live = instances.filter((instance) => instance.status === 'live').length;
    const gone = instances.length - live;
    return html`<span data-presence
      ><b>${live}</b> instance${live === 1 ? '' : 's'} live${gone > 0
        ? html`, <b class="gone">${gone}</b> gone`
        : nothing}</span
    >`;
  }

  #renderInstanceFilter(): TemplateResult | typeof nothing {
    const state = this.#state;
    const ids = state.instanceIds();
    const current = this.instance || '';
    if (current !== '' && !ids.includes(current)) ids.unshift(current);
    // A single manager's runs all carry its own id: nothing to choose between.
    if (state.instances.length === 0 && ids.length < 2) return nothing;
    const status = new Map(state.instances.map((instance) => [instance.id, instance.status]));
    return html`<label class="filter"
      >Instance
      <select class="instance-select" @change=${this.#onInstanceChange} .value=${current}>
        <option value="" ?selected=${current === ''}>All instances</option>
        ${ids.map(
          (id) =>
            html`<option value=${id} ?selected=${id === current}>${id}${status.get(id) === 'gone' ? ' (gone)' : ''}</option>`,
        )}
      </select></label
    >`;
  }

  #renderBanner(now: number): TemplateResult | typeof nothing {
    if (this.#connection === 'stopped') {
      return html`<div class="banner stopped" role="status">
        <span class="grow"><strong>Stopped</strong>: the task manager behind this dashboard has stopped.</span>
        <span class="spacer"></span>
        ${this.src ? html`<button type="button" @click=${() => this.reconnect()}>Reconnect</button>` : nothing}
      </div>`;
    }
    if (this.#connection !== 'disconnected') return nothing;
    const seconds = Math.max(0, Math.ceil((this.#retryAt - now) / 1000));
    const where = this.#eventsUrl?.href ?? this.src ?? '';
    return html`<div class="banner" role="alert">
      <span class="grow"
        ><strong>Disconnected</strong> from <code>${where}</code>.
        ${this.#retryTimer === undefined ? this.#notice : html`Retrying in ${seconds} s…`}</span
      >
      <span class="spacer"></span>
      ${this.src ? html`<button type="button" @click=${() => this.reconnect()}>Retry now</button>` : nothing}
    </div>`;
  }

  #renderTasks(tasks: readonly DashboardTask[]): TemplateResult {
    const state = this.#state;
    const canTrigger = state.actions.trigger !== undefined && this.#connection === 'live';
    let body: unknown;
    if (tasks.length > 0) {
      body = repeat(
        tasks,
        (task) => task.name,
        (task) =>
          guard([task, canTrigger, state.instances, this.#historyTask === task.name], () =>
            this.#renderTask(task, canTrigger, canTrigger && state.canTrigger(task)),
          ),
      );
    } else {
      body = html`<div class="empty">
        ${this.#connection === 'connecting'
          ? 'Connecting…'
          : this.#connection === 'idle'
            ? 'Set taskManager or src to watch a manager.'
            : 'No tasks.'}
      </div>`;
    }
    return html`<section aria-label="Tasks">
      <h2>Tasks</h2>
      <div class="task-list ${canTrigger ? 'with-actions' : ''}" role="list">
        <div class="task-row head" aria-hidden="true">
          <span>Task</span><span>Status</span><span>Progress</span><span class="numeric">Runs</span><span
            >Last run</span
          ><span>Avg. time</span><span>Last error</span>${canTrigger ? html`<span></span>` : nothing}
        </div>
        ${body}
      </div>
    </section>`;
  }

  /**
   * `canTrigger`: the page may trigger tasks (the action column shows);
   * `runnable`: this task can be, i.e. in a cluster a live instance that takes triggers has it.
   */
  #renderTask(task: DashboardTask, canTrigger: boolean, runnable: boolean): TemplateResult {
    // A finished run without steps has nothing to count progress by; it is done.
    const progress = task.status === 'completed' && task.steps.length === 0 ? 100 : Math.round(task.currentProgress);
    const step = task.currentStep === undefined ? undefined : task.steps.find((entry) => entry.name === task.currentStep);
    const labels = Object.entries(task.labels);
    // A run without steps has no progress to show until it ends; the bar says "working" instead.
    const indeterminate = task.status === 'running' && task.steps.length === 0;
    return html`<div class="task-row ${task.status === 'failed' ? 'failed-run' : ''}" role="listitem" data-task=${task.name}>
      <div class="name">
        <button
          type="button"
          class="task-name"
          aria-expanded=${this.#historyTask === task.name ? 'true' : 'false'}
          aria-label="History of ${task.name}"
          @click=${() => this.#toggleHistory(task.name)}
        >
          ${task.name}
        </button>
        ${labels.length > 0 || task.cronSchedule || task.buffered
          ? html`<div class="chips">
              ${labels.map(([key, value]) => html`<span class="chip">${key}=${value}</span>`)}
              ${task.cronSchedule
                ? html`<span class="chip cron"
                    ><svg class="icon" viewBox="0 0 16 16" width="11" height="11" aria-hidden="true">
                      <circle cx="8" cy="9" r="6" fill="none" stroke="currentColor" stroke-width="1.6" />
                      <path d="M8 5.5V9l2.2 1.6M6.5 1.5h3" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" />
                    </svg>
                    cron ${task.cronSchedule}</span
                  >`
                : nothing}
              ${task.buffered ? html`<span class="chip">buffered ×${task.bufferMax ?? 1}</span>` : nothing}
            </div>`
          : nothing}
      </div>
      <div class="status-cell"><span class="badge ${task.status}" data-status=${task.status}>${task.status}</span></div>
      <div class="progress">
        <div
          class="bar ${indeterminate ? 'indeterminate' : ''}"
          role="progressbar"
          aria-label="${task.name} progress"
          aria-valuemin="0"
          aria-valuemax="100"
          aria-valuenow=${progress}
          aria-valuetext=${step ? `${progress}%, ${step.name}` : `${progress}%`}
        >
          ${task.steps.length > 0
            ? task.steps.map(
                (entry) =>
                  html`<span
                    class="segment ${entry.status}"
                    title="${entry.name}: ${entry.description} (${entry.percentage}%)"
                    style=${styleMap({ flexGrow: String(Math.max(entry.percentage, 1)) })}
                  ></span>`,
              )
            : html`<span
                class="fill ${task.status}"
                style=${styleMap({ width: indeterminate ? undefined : `${progress}%` })}
              ></span>`}
        </div>
        <div class="step-label">
          ${progress}%${step ? html` · ${step.description || step.name}` : nothing}
          ${task.steps.length > 0
            ? html`<span class="muted">
                (${task.steps.filter((entry) => entry.status === 'completed').length}/${task.steps.length} steps)</span
              >`
            : nothing}
        </div>
      </div>
      <div class="numeric runs-cell" data-label="Runs">${task.runCount}</div>
      <div class="time last-cell" data-label="Last run">${formatTime(task.lastRun)}</div>
      <div class="muted avg-cell" data-label="Avg. time">${formatDuration(task.averageDuration)}</div>
      <div class="error-text error-cell" title=${task.lastError ?? ''}>
        ${task.lastError ?? ''}${task.errorCount > 0 ? html` <span class="muted">(${task.errorCount}×)</span>` : nothing}
      </div>
      ${canTrigger
        ? html`<div class="action-cell">
            ${runnable
              ? html`<button type="button" @click=${() => void this.#trigger(task.name)} aria-label="Run ${task.name}">
                  Run
                </button>`
              : nothing}
          </div>`
        : nothing}
    </div>`;
  }

  #toggleHistory(name: string): void {
    this.#historyTask = this.#historyTask === name ? undefined : name;
    this.requestUpdate();
  }

  /** The span of the timeline in ms, from the `timelineMinutes` property (clamped to 1–60). */
  #span(): number {
    const minutes = Number(this.timelineMinutes);
    return (Number.isFinite(minutes) ? Math.min(60, Math.max(1, minutes)) : 5) * 60_000;
  }

  /** The edges of the timeline: while following, now sits a tenth from the right, so upcoming ticks show. */
  #range(now: number): { from: number; to: number } {
    const span = this.#span();
    const to = this.timelineEnd ?? now + span / 10;
    return { from: to - span, to };
  }

  #lanes(tasks: readonly DashboardTask[]): TimelineLane[] {
    const state = this.#state;
    const ticks = new Map<string, number[]>();
    for (const run of state.nextRuns) {
      let list = ticks.get(run.taskName);
      if (list === undefined) ticks.set(run.taskName, (list = []));
      list.push(run.nextRun);
    }
    return tasks.map((task) => {
      const own = ticks.get(task.name) ?? [];
      if (task.nextRun !== undefined && !own.includes(task.nextRun)) own.push(task.nextRun);
      return { name: task.name, runs: this.#runsOf(task.name), ticks: own };
    });
  }

  #pan(direction: -1 | 1): void {
    const now = Date.now();
    const span = this.#span();
    const { to } = this.#range(now);
    this.timelineEnd = to + (direction * span) / 2;
    this.requestUpdate();
  }

  #follow(): void {
    this.timelineEnd = undefined;
    this.requestUpdate();
  }

  #zoom(minutes: number): void {
    this.timelineMinutes = minutes;
  }

  #onZoomChange(event: Event): void {
    this.#zoom(Number((event.target as HTMLSelectElement).value));
  }

  /** Keyboard on the timeline: arrows move between runs and lanes, +/- zoom, [ ] pan, f follows now. */
  #onTimelineKey(event: KeyboardEvent): void {
    const view = this.#timelineView;
    if (view === undefined) return;
    const key = event.key;
    if (key === '+' || key === '-') {
      const index = ZOOM_MINUTES.indexOf(this.#span() / 60_000 as (typeof ZOOM_MINUTES)[number]);
      const next = ZOOM_MINUTES[Math.min(ZOOM_MINUTES.length - 1, Math.max(0, (index === -1 ? 2 : index) + (key === '+' ? -1 : 1)))]!;
      this.#zoom(next);
      event.preventDefault();
      return;
    }
    if (key === '[' || key === ']') {
      this.#pan(key === '[' ? -1 : 1);
      event.preventDefault();
      return;
    }
    if (key === 'f') {
      this.#follow();
      event.preventDefault();
      return;
    }
    if (!['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End', 'Escape'].includes(key)) return;
    event.preventDefault();
    if (key === 'Escape') {
      this.#focusedRun = undefined;
      this.requestUpdate();
      return;
    }
    const lanes = view.lanes;
    if (lanes.length === 0) return;
    const current = this.#focusedRun;
    let laneIndex = current === undefined ? -1 : lanes.findIndex((lane) => lane.name === current.taskName);
    const runsIn = (index: number) => visibleRuns(lanes[index]!, view.from, view.to, view.now);
    if (laneIndex === -1) {
      // The first lane with something to show, at its newest run.
      laneIndex = lanes.findIndex((_, index) => runsIn(index).length > 0);
      if (laneIndex === -1) return;
      this.#focusedRun = runsIn(laneIndex).at(-1);
      this.requestUpdate();
      return;
    }
    let runs = runsIn(laneIndex);
    let position = runs.findIndex((run) => run.id === current!.id);
    if (key === 'ArrowLeft') position = Math.max(0, position - 1);
    else if (key === 'ArrowRight') position = Math.min(runs.length - 1, position + 1);
    else if (key === 'Home') position = 0;
    else if (key === 'End') position = runs.length - 1;
    else {
      // Up and down go to the nearest lane that has runs, at the run closest in time.
      const step = key === 'ArrowUp' ? -1 : 1;
      const time = runBegin(current!) ?? view.now;
      for (let index = laneIndex + step; index >= 0 && index < lanes.length; index += step) {
        const candidates = runsIn(index);
        if (candidates.length === 0) continue;
        laneIndex = index;
        runs = candidates;
        position = 0;
        let best = Infinity;
        for (const [candidateIndex, run] of candidates.entries()) {
          const distance = Math.abs((runBegin(run) ?? 0) - time);
          if (distance < best) {
            best = distance;
            position = candidateIndex;
          }
        }
        break;
      }
    }
    this.#focusedRun = runs[Math.max(0, position)] ?? current;
    this.requestUpdate();
  }

  #onTimelinePointer(event: PointerEvent): void {
    const view = this.#timelineView;
    const canvas = event.currentTarget as HTMLCanvasElement;
    if (view === undefined) return;
    const rect = canvas.getBoundingClientRect();
    const hit = runAt(view, event.clientX - rect.left, event.clientY - rect.top);
    if (hit?.run.id !== this.#hoveredRun?.id) {
      this.#hoveredRun = hit?.run;
      this.requestUpdate();
    }
  }

  #onTimelineLeave(): void {
    if (this.#hoveredRun === undefined) return;
    this.#hoveredRun = undefined;
    this.requestUpdate();
  }

  #colors(): TimelineColors {
    const key = `${this.theme}:${globalThis.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'}`;
    if (this.#colorCache?.theme === key) return this.#colorCache.colors;
    const style = getComputedStyle(this);
    const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
    const colors: TimelineColors = {
      text: read('--tb-text', '#1b2230'),
      muted: read('--tb-muted', '#5f6b7d'),
      border: read('--tb-border', '#dde2ea'),
      running: read('--tb-accent', '#3563e9'),
      completed: read('--tb-ok', '#1c8c4e'),
      failed: read('--tb-fail', '#cf3a3a'),
      cancelled: read('--tb-muted', '#5f6b7d'),
      skipped: read('--tb-warn', '#b87900'),
      wait: read('--tb-muted', '#5f6b7d'),
      cooldown: read('--tb-warn', '#b87900'),
      now: read('--tb-accent', '#3563e9'),
    };
    this.#colorCache = { theme: key, colors };
    return colors;
  }

  /** Draws the timeline's canvas after a render (at most once per frame, like the render itself). */
  #drawTimeline(): void {
    const canvas = this.renderRoot.querySelector<HTMLCanvasElement>('canvas.timeline-canvas');
    const view = this.#timelineView;
    if (canvas === null || view === undefined) return;
    if (this.#resizeObserver === undefined && typeof ResizeObserver === 'function') {
      const observer = new ResizeObserver((entries) => {
        const width = Math.floor(entries[0]?.contentRect.width ?? 0);
        if (width > 0 && width !== this.#timelineWidth) {
          this.#timelineWidth = width;
          this.requestUpdate();
        }
      });
      observer.observe(canvas.parentElement!);
      this.#resizeObserver = observer;
    }
    const width = this.#timelineWidth || Math.floor(canvas.parentElement!.clientWidth);
    if (width <= view.gutter) return;
    view.width = width;
    // Read from the scroll event, not the element: reading it here would force a layout every frame.
    view.scrollTop = this.#timelineScrollTop;
    const height = view.viewHeight;
    const ratio = globalThis.devicePixelRatio || 1;
    const pixelWidth = Math.round(width * ratio);
    const pixelHeight = Math.round(height * ratio);
    if (canvas.width !== pixelWidth || canvas.height !== pixelHeight) {
      canvas.width = pixelWidth;
      canvas.height = pixelHeight;
    }
    canvas.style.height = `${height}px`;
    const spacer = canvas.nextElementSibling as HTMLElement | null;
    if (spacer !== null) spacer.style.height = `${timelineHeight(view) - height}px`;
    const context = canvas.getContext('2d');
    if (context === null) return;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    drawTimeline(context, view, this.#colors(), this.#focusedRun ?? this.#hoveredRun);
  }

  #renderTimeline(tasks: readonly DashboardTask[], now: number): TemplateResult {
    const { from, to } = this.#range(now);
    const lanes = this.#lanes(tasks);
    this.#timelineView = {
      lanes,
      from,
      to,
      now,
      width: this.#timelineWidth,
      gutter: GUTTER,
      laneHeight: LANE_HEIGHT,
      axisHeight: AXIS_HEIGHT,
      scrollTop: 0,
      viewHeight: 0,
    };
    // The canvas is as tall as the lanes, up to half the window (at most 420 px); the lanes scroll under it.
    const maxHeight = Math.max(120, Math.min(420, Math.floor((globalThis.innerHeight || 800) / 2)));
    this.#timelineView.viewHeight = Math.min(timelineHeight(this.#timelineView), maxHeight);
    const minutes = this.#span() / 60_000;
    const following = this.timelineEnd === undefined;
    const detailRun = this.#focusedRun ?? this.#hoveredRun;
    const shown = countVisibleRuns(lanes, from, to, now);
    return html`<section class="timeline" aria-label="Run timeline">
      <div class="section-head">
        <h2>Timeline</h2>
        <div class="timeline-controls">
          <label class="filter"
            >Span
            <select @change=${this.#onZoomChange} .value=${String(minutes)} aria-label="Timeline span">
              ${ZOOM_MINUTES.map(
                (option) => html`<option value=${option} ?selected=${option === minutes}>${option} min</option>`,
              )}
            </select></label
          >
          <button type="button" @click=${() => this.#pan(-1)} aria-label="Earlier">◀</button>
          <button type="button" @click=${() => this.#pan(1)} aria-label="Later">▶</button>
          <button type="button" @click=${this.#follow} aria-pressed=${following ? 'true' : 'false'}>Follow now</button>
          <button
            type="button"
            class="table-toggle"
            @click=${() => {
              this.#showTable = !this.#showTable;
              this.requestUpdate();
            }}
            aria-pressed=${this.#showTable ? 'true' : 'false'}
          >
            Table
          </button>
        </div>
      </div>
      <div class="legend" aria-hidden="true">
        <span class="key running"></span>running <span class="key completed"></span>completed
        <span class="key failed"></span>failed <span class="key cancelled"></span>cancelled
        <span class="key skipped"></span>skipped <span class="key wait"></span>waiting
        <span class="key cooldown"></span>cooldown <span class="key ghost"></span>next tick
      </div>
      <div
        class="timeline-scroll"
        style=${styleMap({ maxHeight: `${this.#timelineView.viewHeight}px` })}
        @scroll=${(event: Event) => {
          this.#timelineScrollTop = (event.currentTarget as HTMLElement).scrollTop;
          if (!this.#scrollPending) {
            this.#scrollPending = true;
            requestFrame(() => {
              this.#scrollPending = false;
              this.#drawTimeline();
            });
          }
        }}
      >
        <canvas
          class="timeline-canvas"
          tabindex="0"
          role="img"
          aria-label="Runs of ${lanes.length} tasks from ${formatTime(from)} to ${formatTime(to)}: ${shown} runs. Arrow keys move between runs; + and - zoom; [ and ] pan; f follows now."
          aria-describedby="run-detail"
          @keydown=${this.#onTimelineKey}
          @pointermove=${this.#onTimelinePointer}
          @pointerleave=${this.#onTimelineLeave}
          @blur=${() => {
            this.#focusedRun = undefined;
            this.requestUpdate();
          }}
        ></canvas>
        <div class="timeline-spacer"></div>
      </div>
      <div id="run-detail" class="run-detail" role="status" aria-live="polite">
        ${detailRun === undefined ? nothing : describeRun(detailRun, now)}
      </div>
      ${this.#showTable ? this.#renderRunTable(lanes, from, to, now) : nothing}
    </section>`;
  }

  #renderRunTable(lanes: readonly TimelineLane[], from: number, to: number, now: number): TemplateResult {
    const runs: DashboardRun[] = [];
    for (const lane of lanes) runs.push(...visibleRuns(lane, from, to, now));
    runs.sort((a, b) => (runBegin(b) ?? 0) - (runBegin(a) ?? 0));
    const shown = runs.slice(0, TABLE_LIMIT);
    return html`<div class="run-table" role="table" aria-label="Runs from ${formatTime(from)} to ${formatTime(to)}">
      <div role="rowgroup">
        <div role="row" class="run-table-row head">
          <span role="columnheader">Task</span><span role="columnheader">Outcome</span
          ><span role="columnheader">Started</span><span role="columnheader">Duration</span
          ><span role="columnheader">Waited</span><span role="columnheader">Instance</span
          ><span role="columnheader">Details</span>
        </div>
      </div>
      <div role="rowgroup">
        ${shown.map((run) => {
          const duration = runDuration(run);
          const waited = run.queuedAt === undefined ? undefined : (run.startedAt ?? run.endedAt ?? now) - run.queuedAt;
          return html`<div role="row" class="run-table-row" data-run=${run.id}>
            <span role="cell" class="wrap">${run.taskName}</span>
            <span role="cell"><span class="event-type ${run.status}">${run.status}</span></span>
            <span role="cell" class="time">${formatTime(run.startedAt ?? run.endedAt ?? run.queuedAt)}</span>
            <span role="cell">${formatDuration(duration)}</span>
            <span role="cell">${waited === undefined ? '—' : formatDuration(waited)}</span>
            <span role="cell">${run.instanceId ?? '—'}</span>
            <span role="cell" class="wrap"
              >${[
                run.attempt === undefined ? '' : `attempt ${run.attempt + 1}`,
                run.tick === undefined ? '' : `tick ${formatTime(run.tick)}`,
                run.fence === undefined ? '' : `fence ${run.fence}`,
                run.input ?? '',
                run.reason ?? '',
                run.error ?? '',
              ]
                .filter((part) => part !== '')
                .join(' · ')}</span
            >
          </div>`;
        })}
      </div>
      ${runs.length > shown.length
        ? html`<div class="empty">${runs.length - shown.length} older runs in this span are not listed.</div>`
        : runs.length === 0
          ? html`<div class="empty">No runs in this span.</div>`
          : nothing}
    </div>`;
  }

  #renderRunHistory(now: number): TemplateResult | typeof nothing {
    const name = this.#historyTask;
    if (name === undefined) return nothing;
    const runs = this.#runsOf(name);
    const stats = runStats(runs);
    const recent = runs.slice(-HISTORY_LIST_LIMIT).reverse();
    const durations = stats.durations.slice(-60);
    const max = Math.max(1, ...durations);
    const points = durations.map((duration, index) => {
      const x = durations.length === 1 ? 50 : (index / (durations.length - 1)) * 100;
      return `${x.toFixed(1)},${(28 - (duration / max) * 26).toFixed(1)}`;
    });
    return html`<section class="run-history" aria-label="History of ${name}" data-history=${name}>
      <div class="section-head">
        <h2 class="wrap">History · ${name}</h2>
        <button type="button" @click=${() => this.#toggleHistory(name)} aria-label="Close history">Close</button>
      </div>
      <dl class="stats-grid">
        <div><dt>Success</dt><dd data-stat="success">${stats.successRate === undefined ? '—' : `${Math.round(stats.successRate * 100)}%`}</dd></div>
        <div><dt>p50</dt><dd data-stat="p50">${formatDuration(stats.p50)}</dd></div>
        <div><dt>p95</dt><dd data-stat="p95">${formatDuration(stats.p95)}</dd></div>
        <div><dt>Runs</dt><dd data-stat="runs">${runs.length}</dd></div>
      </dl>
      ${durations.length > 0
        ? html`<svg class="sparkline" viewBox="0 0 100 30" preserveAspectRatio="none" role="img"
            aria-label="Durations of the last ${durations.length} runs, longest ${formatDuration(max)}">
            <polyline points=${points.join(' ')} fill="none" stroke="currentColor" stroke-width="1.5" vector-effect="non-scaling-stroke" />
          </svg>`
        : nothing}
      ${recent.length === 0
        ? html`<div class="empty">No runs recorded yet.</div>`
        : html`<ul class="side-list history">
            ${recent.map(
              (run) => html`<li data-run=${run.id}>
                <span class="time">${formatTime(run.startedAt ?? run.endedAt ?? run.queuedAt)}</span>
                <span class="event-type ${run.status}">${run.status}</span>
                <span class="grow wrap"
                  >${formatDuration(runDuration(run) ?? (run.startedAt === undefined ? undefined : now - run.startedAt))}${run.error
                    ? html` <span class="error-text">${run.error}</span>`
                    : nothing}${run.reason ? html` <span class="muted">${run.reason}</span>` : nothing}</span
                >
              </li>`,
            )}
          </ul>`}
    </section>`;
  }

  #renderScheduled(filter: LabelFilter | undefined, now: number): TemplateResult {
    const state = this.#state;
    const entries = state.scheduled
      .filter((entry) => {
        const task = state.getTask(entry.name);
        return task === undefined ? filter === undefined : matchesLabel(task, filter);
      })
      .map((entry) => {
        // A task's own metadata moves on with every run; the schedule list only with snapshots.
        const taskNext = state.getTask(entry.name)?.nextRun;
        const nextRun = taskNext !== undefined && (entry.nextRun === undefined || taskNext > entry.nextRun) ? taskNext : entry.nextRun;
        return { ...entry, nextRun };
      })
      .sort((a, b) => (a.nextRun ?? Infinity) - (b.nextRun ?? Infinity));
    return html`<section aria-label="Scheduled">
      <h2>Scheduled</h2>
      ${entries.length === 0
        ? html`<div class="empty">No schedules.</div>`
        : html`<ul class="side-list">
            ${entries.map(
              (entry) =>
                html`<li data-scheduled=${entry.name}>
                  <span class="stack"
                    ><strong class="grow">${entry.name}</strong
                    ><code class="grow">${entry.schedule}${entry.timezone ? ` (${entry.timezone})` : ''}</code></span
                  >
                  <span class="time"
                    >${entry.nextRun === undefined ? '—' : `${formatTime(entry.nextRun)} · ${formatIn(entry.nextRun, now)}`}</span
                  >
                </li>`,
            )}
          </ul>`}
    </section>`;
  }

  #renderGroups(now: number): TemplateResult {
    const state = this.#state;
    const elapsed = Math.max(0, now - state.constraintGroupsTime);
    return html`<section aria-label="Constraint groups">
      <h2>Constraint groups</h2>
      ${state.constraintGroups.length === 0
        ? html`<div class="empty">No constraint groups.</div>`
        : state.constraintGroups.map(
            (group) =>
              html`<div class="group" data-group=${group.name}>
                <div class="group-title">
                  <strong>${group.name}</strong>
                  <span class="muted"
                    >max ${Number.isFinite(group.maxConcurrent) ? group.maxConcurrent : '∞'}${group.cooldownMs > 0
                      ? ` · cooldown ${formatDuration(group.cooldownMs)}`
                      : ''}</span
                  >
                </div>
                ${group.keys.length === 0
                  ? html`<div class="muted">idle</div>`
                  : html`<table class="keys">
                      <thead>
                        <tr><th>Key</th><th>Running</th><th>Queued</th><th>Cooling</th></tr>
                      </thead>
                      <tbody>
                        ${group.keys.map((key) => {
                          const cooling = Math.max(0, key.cooldownRemainingMs - elapsed);
                          return html`<tr data-key=${key.key}>
                            <td title=${key.key}>${key.key}</td>
                            <td class="numeric">${key.running}</td>
                            <td class="numeric">${key.queued}</td>
                            <td class=${cooling > 0 ? 'cooling' : 'muted'}>${cooling > 0 ? formatDuration(cooling) : '—'}</td>
                          </tr>`;
                        })}
                      </tbody>
                    </table>`}
              </div>`,
          )}
    </section>`;
  }

  #renderHistory(filter: LabelFilter | undefined): TemplateResult {
    const state = this.#state;
    const entries: DashboardEvent[] = [];
    const history = state.history;
    const instance = this.instance || undefined;
    for (let index = history.length - 1; index >= 0; index--) {
      const entry = history[index]!;
      if (instance !== undefined && entry.instanceId !== instance) continue;
      const task = state.getTask(entry.taskName);
      if (filter === undefined || (task !== undefined && matchesLabel(task, filter))) entries.push(entry);
    }
    return html`<section aria-label="Recent events">
      <h2>Recent events</h2>
      ${entries.length === 0
        ? html`<div class="empty">No events yet.</div>`
        : html`<ul class="side-list history">
            ${entries.map(
              (entry) =>
                html`<li>
                  <span class="time">${formatTime(entry.timestamp)}</span>
                  <span class="event-type ${entry.type}">${entry.type}</span>
                  <span class="grow" title=${entry.error ?? entry.reason ?? ''}
                    >${entry.taskName}${entry.stepName ? html` <span class="muted">→ ${entry.stepName}</span>` : nothing}${entry.error
                      ? html` <span class="error-text">${entry.error}</span>`
                      : nothing}${entry.reason ? html` <span class="muted">${entry.reason}</span>` : nothing}${entry.constraintKey
                      ? html` <span class="muted">${entry.constraintGroup}:${entry.constraintKey}</span>`
                      : nothing}</span
                  >
                </li>`,
            )}
          </ul>`}
      ${state.droppedEvents > 0
        ? html`<div class="empty">${state.droppedEvents} more events were coalesced.</div>`
        : nothing}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'taskbuffer-dashboard': TaskbufferDashboard;
  }
}
