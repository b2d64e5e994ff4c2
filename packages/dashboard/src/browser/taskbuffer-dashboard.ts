import { LitElement, type PropertyValues, type TemplateResult, html, nothing } from 'lit';
import { guard } from 'lit/directives/guard.js';
import { repeat } from 'lit/directives/repeat.js';
import { styleMap } from 'lit/directives/style-map.js';
import { DashboardState, type LabelFilter, matchesLabel, parseLabelFilter } from '../dashboard-state.js';
import { invalidOption } from '../errors.js';
import { EventCoalescer } from '../event-coalescer.js';
import {
  type DashboardEvent,
  type DashboardSnapshot,
  type DashboardSource,
  type DashboardTask,
  type DashboardUpdate,
  createSnapshot,
  getConstraintGroupSnapshots,
} from '../protocol.js';
import { dashboardStyles } from './styles.js';

/** `auto` follows `prefers-color-scheme`. */
export type DashboardTheme = 'auto' | 'light' | 'dark';

/**
 * `idle`: nothing to watch; `local`: a manager in this page; `connecting`,
 * `live` and `disconnected`: a remote manager over Server-Sent Events.
 */
export type DashboardConnectionState = 'idle' | 'local' | 'connecting' | 'live' | 'disconnected';

const RETRY_MIN_MS = 1000;
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
    refreshInterval: { type: Number, attribute: 'refresh-interval' },
    src: { type: String },
    theme: { type: String, reflect: true },
    label: { type: String },
    historySize: { type: Number, attribute: 'history-size' },
    heading: { type: String },
  };

  #taskManager: DashboardSource | undefined;

  /**
   * A manager in the same page. Its events show as they happen; everything
   * else is refreshed every `refreshInterval` ms. Takes precedence over `src`.
   */
  get taskManager(): DashboardSource | undefined {
    return this.#taskManager;
  }

  set taskManager(manager: DashboardSource | undefined) {
    if (
      manager !== undefined &&
      manager !== null &&
      (typeof manager !== 'object' ||
        typeof manager.getAllTasksMetadata !== 'function' ||
        typeof manager.taskSubject?.subscribe !== 'function')
    ) {
      invalidOption('taskManager', 'a TaskManager', manager);
    }
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
  /** How many recent events the history keeps. @default 50 */
  declare historySize: number;
  /** @default 'taskbuffer' */
  declare heading: string;

  readonly #state = new DashboardState();
  #connection: DashboardConnectionState = 'idle';
  #teardown: (() => void) | undefined;
  /** What the current connection was made for; a change of any of it reconnects. */
  #watched: { manager: DashboardSource | undefined; src: string | undefined; refreshInterval: number } | undefined;
  #cancelFrame: (() => void) | undefined;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retryAt = 0;
  #retryAttempt = 0;
  #eventsUrl: URL | undefined;
  #notice = '';
  #renderedVersion = -1;

  constructor() {
    super();
    this.refreshInterval = 1000;
    this.src = undefined;
    this.theme = 'auto';
    this.label = undefined;
    this.historySize = 50;
    this.heading = 'taskbuffer';
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
        watched.src !== this.src ||
        (this.#taskManager !== undefined && watched.refreshInterval !== this.refreshInterval))
    ) {
      this.#watch();
    }
  }

  protected override updated(): void {
    this.#renderedVersion = this.#state.version;
  }

  /** Connects again at once (after a disconnect). */
  reconnect(): void {
    this.#watch();
  }

  #watch(): void {
    this.#unwatch();
    this.#watched = { manager: this.#taskManager, src: this.src, refreshInterval: this.refreshInterval };
    this.#state.reset();
    this.#retryAttempt = 0;
    this.#notice = '';
    const manager = this.#taskManager;
    if (manager !== undefined) this.#watchLocal(manager);
    else if (this.src) this.#watchRemote(this.src);
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

  #watchLocal(manager: DashboardSource): void {
    const state = this.#state;
    const refresh = () => {
      state.applySnapshot(createSnapshot(manager));
      this.#scheduleRender();
    };
    const coalescer = new EventCoalescer({
      schedule: requestFrame,
      maxEvents: Math.max(this.historySize, 1),
      onFlush: (update) => {
        state.applyUpdate({ ...update, constraintGroups: getConstraintGroupSnapshots(manager) });
        // Already inside an animation frame: render with this frame's update cycle.
        this.requestUpdate();
      },
    });
    const subscription = manager.taskSubject.subscribe((event) => coalescer.push(event));
    refresh();
    const interval = this.refreshInterval;
    const timer = Number.isFinite(interval) && interval > 0 ? setInterval(refresh, interval) : undefined;
    this.#teardown = () => {
      subscription.unsubscribe();
      coalescer.clear();
      clearInterval(timer);
    };
    this.#setConnection('local');
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
    const source = new EventSource(url);
    const state = this.#state;
    let closed = false;
    const parse = <T>(event: MessageEvent): T | undefined => {
      try {
        return JSON.parse(event.data as string) as T;
      } catch {
        return undefined;
      }
    };
    source.addEventListener('snapshot', (event) => {
      const snapshot = parse<DashboardSnapshot>(event as MessageEvent);
      if (snapshot === undefined || !Array.isArray(snapshot.tasks)) return;
      state.applySnapshot(snapshot);
      this.#retryAttempt = 0;
      this.#notice = '';
      this.#setConnection('live');
      this.#scheduleRender();
    });
    source.addEventListener('update', (event) => {
      const update = parse<DashboardUpdate>(event as MessageEvent);
      if (update === undefined || !Array.isArray(update.tasks)) return;
      state.applyUpdate(update);
      this.#scheduleRender();
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

  #onFilterChange(event: Event): void {
    this.label = (event.target as HTMLSelectElement).value || undefined;
    this.dispatchEvent(new CustomEvent('label-change', { detail: { label: this.label } }));
  }

  protected override render(): TemplateResult {
    const state = this.#state;
    const filter = parseLabelFilter(this.label);
    const tasks = filter === undefined ? state.tasks : state.tasks.filter((task) => matchesLabel(task, filter));
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
        </div>
        <span class="spacer"></span>
        ${this.#renderFilter(filter)}
        <button type="button" class="theme" @click=${this.#cycleTheme} title="Switch theme">
          Theme: ${this.theme}
        </button>
      </header>
      ${this.#renderBanner(now)}
      ${this.#notice && this.#connection !== 'disconnected'
        ? html`<div class="notice" role="status">${this.#notice}</div>`
        : nothing}
      <div class="layout">
        ${this.#renderTasks(tasks)}
        <aside>
          ${this.#renderScheduled(filter, now)} ${this.#renderGroups(now)} ${this.#renderHistory(filter)}
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
      <select @change=${this.#onFilterChange} .value=${current}>
        <option value="" ?selected=${current === ''}>All tasks</option>
        ${pairs.map((pair) => html`<option value=${pair} ?selected=${pair === current}>${pair}</option>`)}
      </select></label
    >`;
  }

  #renderBanner(now: number): TemplateResult | typeof nothing {
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
    const canTrigger = this.#state.actions.trigger !== undefined && this.#connection === 'live';
    let body: unknown;
    if (tasks.length > 0) {
      body = repeat(
        tasks,
        (task) => task.name,
        (task) => guard([task, canTrigger], () => this.#renderTask(task, canTrigger)),
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

  #renderTask(task: DashboardTask, canTrigger: boolean): TemplateResult {
    // A finished run without steps has nothing to count progress by; it is done.
    const progress = task.status === 'completed' && task.steps.length === 0 ? 100 : Math.round(task.currentProgress);
    const step = task.currentStep === undefined ? undefined : task.steps.find((entry) => entry.name === task.currentStep);
    const labels = Object.entries(task.labels);
    // A run without steps has no progress to show until it ends; the bar says "working" instead.
    const indeterminate = task.status === 'running' && task.steps.length === 0;
    return html`<div class="task-row ${task.status === 'failed' ? 'failed-run' : ''}" role="listitem" data-task=${task.name}>
      <div class="name">
        <strong title=${task.name}>${task.name}</strong>
        ${labels.length > 0 || task.cronSchedule || task.buffered
          ? html`<div class="chips">
              ${labels.map(([key, value]) => html`<span class="chip">${key}=${value}</span>`)}
              ${task.cronSchedule ? html`<span class="chip" title="cron">⏱ ${task.cronSchedule}</span>` : nothing}
              ${task.buffered ? html`<span class="chip">buffered ×${task.bufferMax ?? 1}</span>` : nothing}
            </div>`
          : nothing}
      </div>
      <div><span class="badge ${task.status}" data-status=${task.status}>${task.status}</span></div>
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
      <div class="numeric">${task.runCount}</div>
      <div class="time">${formatTime(task.lastRun)}</div>
      <div class="muted">${formatDuration(task.averageDuration)}</div>
      <div class="error-text" title=${task.lastError ?? ''}>
        ${task.lastError ?? ''}${task.errorCount > 0 ? html` <span class="muted">(${task.errorCount}×)</span>` : nothing}
      </div>
      ${canTrigger
        ? html`<div>
            <button type="button" @click=${() => void this.#trigger(task.name)} aria-label="Run ${task.name}">Run</button>
          </div>`
        : nothing}
    </div>`;
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
    for (let index = history.length - 1; index >= 0; index--) {
      const entry = history[index]!;
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
