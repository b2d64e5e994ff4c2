import { css } from 'lit';

const light = css`
  --tb-bg: #f5f7fa;
  --tb-surface: #ffffff;
  --tb-surface-2: #eef1f6;
  --tb-text: #1b2230;
  --tb-muted: #5f6b7d;
  --tb-border: #dde2ea;
  --tb-accent: #3563e9;
  --tb-ok: #1c8c4e;
  --tb-fail: #cf3a3a;
  --tb-warn: #b87900;
  --tb-pending: #cfd6e2;
  color-scheme: light;
`;

const dark = css`
  --tb-bg: #0e1219;
  --tb-surface: #161c26;
  --tb-surface-2: #1e2633;
  --tb-text: #e5e9f0;
  --tb-muted: #97a3b6;
  --tb-border: #2a3444;
  --tb-accent: #6f96ff;
  --tb-ok: #42c486;
  --tb-fail: #f06b6b;
  --tb-warn: #e3a92f;
  --tb-pending: #334055;
  color-scheme: dark;
`;

export const dashboardStyles = css`
  :host {
    ${light}
    display: block;
    font: 14px/1.4 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
    color: var(--tb-text);
    background: var(--tb-bg);
    border-radius: 10px;
    padding: 16px;
    box-sizing: border-box;
  }
  @media (prefers-color-scheme: dark) {
    :host(:not([theme='light'])) {
      ${dark}
    }
  }
  :host([theme='dark']) {
    ${dark}
  }
  :host([theme='light']) {
    ${light}
  }
  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }
  header {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 12px 18px;
    margin-bottom: 14px;
  }
  h1 {
    font-size: 18px;
    margin: 0;
    font-weight: 650;
    letter-spacing: -0.01em;
  }
  .spacer {
    flex: 1;
  }
  .connection {
    display: inline-flex;
    align-items: center;
    gap: 6px;
    font-size: 12px;
    padding: 2px 10px;
    border-radius: 999px;
    background: var(--tb-surface-2);
    color: var(--tb-muted);
  }
  .connection::before {
    content: '';
    width: 8px;
    height: 8px;
    border-radius: 50%;
    background: var(--tb-muted);
  }
  .connection.live::before,
  .connection.local::before {
    background: var(--tb-ok);
  }
  .connection.connecting::before {
    background: var(--tb-warn);
  }
  .connection.disconnected {
    color: var(--tb-fail);
  }
  .connection.disconnected::before {
    background: var(--tb-fail);
  }
  .connection.stopped::before {
    background: var(--tb-muted);
  }
  .stats {
    display: flex;
    gap: 14px;
    color: var(--tb-muted);
    font-size: 13px;
  }
  .stats b {
    color: var(--tb-text);
    font-variant-numeric: tabular-nums;
  }
  .stats b.gone {
    color: var(--tb-fail);
  }
  select {
    max-width: 100%;
  }
  select,
  button {
    font: inherit;
    font-size: 13px;
    color: var(--tb-text);
    background: var(--tb-surface);
    border: 1px solid var(--tb-border);
    border-radius: 6px;
    padding: 4px 8px;
  }
  button {
    cursor: pointer;
  }
  button:hover {
    border-color: var(--tb-accent);
  }
  button:focus-visible,
  select:focus-visible {
    outline: 2px solid var(--tb-accent);
    outline-offset: 1px;
  }
  label.filter {
    display: inline-flex;
    gap: 6px;
    align-items: center;
    color: var(--tb-muted);
    font-size: 13px;
  }
  .banner {
    display: flex;
    align-items: center;
    gap: 12px;
    padding: 10px 14px;
    border-radius: 8px;
    margin-bottom: 14px;
    border: 1px solid var(--tb-fail);
    color: var(--tb-fail);
    background: color-mix(in srgb, var(--tb-fail) 10%, var(--tb-surface));
  }
  .banner.warn {
    border-color: var(--tb-warn);
    color: var(--tb-text);
    background: color-mix(in srgb, var(--tb-warn) 12%, var(--tb-surface));
  }
  .banner.stopped {
    border-color: var(--tb-muted);
    color: var(--tb-text);
    background: color-mix(in srgb, var(--tb-muted) 10%, var(--tb-surface));
  }
  .notice {
    font-size: 13px;
    color: var(--tb-muted);
    margin-bottom: 10px;
  }
  .layout {
    display: grid;
    grid-template-columns: minmax(0, 1fr) minmax(300px, 400px);
    gap: 16px;
    align-items: start;
  }
  @media (max-width: 960px) {
    .layout {
      grid-template-columns: minmax(0, 1fr);
    }
  }
  section {
    background: var(--tb-surface);
    border: 1px solid var(--tb-border);
    border-radius: 10px;
    overflow: hidden;
  }
  aside {
    display: grid;
    gap: 16px;
  }
  h2 {
    font-size: 13px;
    text-transform: uppercase;
    letter-spacing: 0.06em;
    color: var(--tb-muted);
    margin: 0;
    padding: 10px 14px;
    border-bottom: 1px solid var(--tb-border);
    font-weight: 600;
  }
  .task-list {
    container-type: inline-size;
  }
  .task-row {
    display: grid;
    /* Every column can shrink to its minimum, and the minimums fit an 830 px panel with room to spare. */
    grid-template-columns:
      minmax(120px, 2.2fr) 88px minmax(90px, 2fr) 40px 64px 62px minmax(60px, 1.4fr)
      var(--tb-action-column, 0px);
    gap: 8px;
    align-items: center;
    padding: 8px 14px;
    border-bottom: 1px solid var(--tb-border);
    content-visibility: auto;
    contain-intrinsic-size: auto 52px;
  }
  .task-list.with-actions {
    --tb-action-column: 52px;
  }
  .task-row:last-child {
    border-bottom: none;
  }
  .task-row.head {
    font-size: 12px;
    color: var(--tb-muted);
    background: var(--tb-surface-2);
    content-visibility: visible;
  }
  .name {
    min-width: 0;
  }
  /* The whole name shows, wrapped where it must: no one has to hover to read it. */
  .task-name {
    display: block;
    max-width: 100%;
    padding: 0;
    border: none;
    background: none;
    font-weight: 600;
    font-size: 14px;
    text-align: left;
    overflow-wrap: anywhere;
    cursor: pointer;
  }
  .task-name:hover {
    color: var(--tb-accent);
    text-decoration: underline;
  }
  .task-name[aria-expanded='true'] {
    color: var(--tb-accent);
  }
  .chip.cron {
    display: inline-flex;
    align-items: center;
    gap: 3px;
  }
  .icon {
    flex: none;
  }
  .wrap {
    overflow-wrap: anywhere;
    white-space: normal;
  }
  /* A narrow panel stacks each task: name and status, then progress, then the figures. */
  @container (max-width: 640px) {
    .task-row {
      grid-template-columns: minmax(0, 1fr) auto auto;
      grid-template-areas:
        'name status action'
        'progress progress progress'
        'runs last avg'
        'error error error';
      row-gap: 4px;
    }
    .task-row.head {
      display: none;
    }
    .task-row > .name {
      grid-area: name;
    }
    .task-row > .status-cell {
      grid-area: status;
    }
    .task-row > .progress {
      grid-area: progress;
    }
    .task-row > .runs-cell {
      grid-area: runs;
      text-align: left;
    }
    .task-row > .last-cell {
      grid-area: last;
    }
    .task-row > .avg-cell {
      grid-area: avg;
    }
    .task-row > .error-cell {
      grid-area: error;
      white-space: normal;
    }
    .task-row > .action-cell {
      grid-area: action;
    }
    .runs-cell::before,
    .last-cell::before,
    .avg-cell::before {
      content: attr(data-label) ': ';
      color: var(--tb-muted);
      font-size: 12px;
    }
  }
  .chips {
    display: flex;
    flex-wrap: wrap;
    gap: 4px;
    margin-top: 3px;
  }
  .chip {
    font-size: 11px;
    padding: 0 6px;
    border-radius: 4px;
    background: var(--tb-surface-2);
    color: var(--tb-muted);
    white-space: nowrap;
  }
  .badge {
    display: inline-block;
    font-size: 12px;
    font-weight: 600;
    padding: 1px 8px;
    border-radius: 999px;
    background: var(--tb-surface-2);
    color: var(--tb-muted);
  }
  .badge.running {
    color: var(--tb-accent);
    background: color-mix(in srgb, var(--tb-accent) 14%, transparent);
  }
  .badge.completed {
    color: var(--tb-ok);
    background: color-mix(in srgb, var(--tb-ok) 14%, transparent);
  }
  .badge.failed {
    color: var(--tb-fail);
    background: color-mix(in srgb, var(--tb-fail) 14%, transparent);
  }
  .progress {
    min-width: 0;
  }
  .bar {
    display: flex;
    gap: 2px;
    height: 10px;
    border-radius: 5px;
    overflow: hidden;
    background: var(--tb-pending);
  }
  .bar .fill {
    background: var(--tb-accent);
  }
  .bar .fill.completed {
    background: var(--tb-ok);
  }
  .bar .fill.failed {
    background: var(--tb-fail);
    transition: width 0.2s ease-out;
  }
  .bar.indeterminate .fill {
    width: 35%;
    border-radius: 5px;
    animation: tb-slide 1.2s ease-in-out infinite alternate;
  }
  @keyframes tb-slide {
    from {
      transform: translateX(0);
    }
    to {
      transform: translateX(186%);
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .bar.indeterminate .fill {
      animation: none;
    }
  }
  .bar .segment {
    flex-basis: 0;
    background: var(--tb-pending);
  }
  .bar .segment.completed {
    background: var(--tb-ok);
  }
  .bar .segment.active {
    background: var(--tb-accent);
  }
  .failed-run .bar .segment.active {
    background: var(--tb-fail);
  }
  .step-label {
    font-size: 12px;
    color: var(--tb-muted);
    margin-top: 3px;
    white-space: nowrap;
    overflow: hidden;
    text-overflow: ellipsis;
  }
  .numeric {
    font-variant-numeric: tabular-nums;
    text-align: right;
  }
  .muted {
    color: var(--tb-muted);
  }
  .error-text {
    color: var(--tb-fail);
    font-size: 12px;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
  }
  .empty {
    padding: 14px;
    color: var(--tb-muted);
  }
  ul {
    list-style: none;
    margin: 0;
    padding: 0;
  }
  .side-list li {
    display: flex;
    gap: 8px;
    align-items: baseline;
    padding: 6px 14px;
    border-bottom: 1px solid var(--tb-border);
    font-size: 13px;
  }
  .side-list li:last-child {
    border-bottom: none;
  }
  .side-list .stack {
    flex: 1;
    min-width: 0;
    display: flex;
    flex-direction: column;
  }
  .side-list .grow {
    flex: 1;
    min-width: 0;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
  }
  code {
    font: 12px ui-monospace, SFMono-Regular, Menlo, monospace;
    color: var(--tb-muted);
  }
  .group {
    padding: 8px 14px;
    border-bottom: 1px solid var(--tb-border);
  }
  .group:last-child {
    border-bottom: none;
  }
  .group-title {
    display: flex;
    justify-content: space-between;
    gap: 8px;
    font-size: 13px;
  }
  .keys {
    width: 100%;
    border-collapse: collapse;
    margin-top: 4px;
    font-size: 12px;
  }
  .keys th {
    text-align: right;
    font-weight: 500;
    color: var(--tb-muted);
  }
  .keys td,
  .keys th {
    padding: 2px 0 2px 8px;
    text-align: right;
    font-variant-numeric: tabular-nums;
  }
  .keys td:first-child,
  .keys th:first-child {
    text-align: left;
    padding-left: 0;
    max-width: 120px;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
  }
  .cooling {
    color: var(--tb-warn);
  }
  .history li {
    font-size: 12px;
  }
  .event-type {
    font-weight: 600;
    width: 72px;
    flex: none;
  }
  .event-type.completed {
    color: var(--tb-ok);
  }
  .event-type.failed {
    color: var(--tb-fail);
  }
  .event-type.started,
  .event-type.step {
    color: var(--tb-accent);
  }
  .event-type.queued,
  .event-type.retry,
  .event-type.skipped {
    color: var(--tb-warn);
  }
  .time {
    font-variant-numeric: tabular-nums;
    color: var(--tb-muted);
    flex: none;
  }
  .toast {
    font-size: 12px;
    color: var(--tb-muted);
  }
  .section-head {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 6px 10px;
    border-bottom: 1px solid var(--tb-border);
    padding-right: 14px;
  }
  .section-head h2 {
    border-bottom: none;
    flex: 1 1 auto;
    min-width: 0;
  }
  .section-head button {
    padding: 2px 8px;
  }
  .timeline {
    margin-bottom: 16px;
  }
  .timeline-controls {
    display: flex;
    flex-wrap: wrap;
    gap: 6px;
    align-items: center;
    padding: 6px 0 6px 14px;
  }
  .timeline-controls button[aria-pressed='true'] {
    border-color: var(--tb-accent);
    color: var(--tb-accent);
  }
  .legend {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 4px 6px;
    padding: 6px 14px 0;
    font-size: 11px;
    color: var(--tb-muted);
  }
  .legend .key {
    display: inline-block;
    width: 12px;
    height: 8px;
    border-radius: 2px;
    margin-left: 6px;
  }
  .key.running {
    background: var(--tb-accent);
  }
  .key.completed {
    background: var(--tb-ok);
  }
  .key.failed {
    background: var(--tb-fail);
  }
  .key.cancelled {
    background: var(--tb-muted);
  }
  .key.skipped {
    width: 2px;
    background: var(--tb-warn);
  }
  .key.wait,
  .key.cooldown {
    height: 6px;
    background: repeating-linear-gradient(135deg, var(--tb-muted) 0 1px, transparent 1px 4px);
  }
  .key.cooldown {
    background: repeating-linear-gradient(135deg, var(--tb-warn) 0 1px, transparent 1px 4px);
  }
  .key.ghost {
    width: 1px;
    border-left: 1px dashed var(--tb-muted);
  }
  .timeline-scroll {
    overflow-x: hidden;
    overflow-y: auto;
    max-height: 420px;
    margin-top: 4px;
  }
  .timeline-canvas {
    display: block;
    width: 100%;
    position: sticky;
    top: 0;
  }
  .timeline-canvas:focus-visible {
    outline: 2px solid var(--tb-accent);
    outline-offset: -2px;
  }
  .run-detail {
    min-height: 1.6em;
    padding: 4px 14px 8px;
    font-size: 12px;
    color: var(--tb-muted);
    overflow-wrap: anywhere;
  }
  .run-table {
    border-top: 1px solid var(--tb-border);
    max-height: 360px;
    overflow-y: auto;
    overflow-x: hidden;
    font-size: 12px;
  }
  .run-table-row {
    display: grid;
    grid-template-columns: minmax(0, 2fr) 76px 64px 58px 58px minmax(0, 1fr) minmax(0, 2fr);
    gap: 6px;
    padding: 3px 14px;
    border-bottom: 1px solid var(--tb-border);
  }
  .run-table-row.head {
    color: var(--tb-muted);
    background: var(--tb-surface-2);
  }
  .run-table-row > span {
    min-width: 0;
    overflow-wrap: anywhere;
  }
  @container (max-width: 640px) {
    .run-table-row {
      grid-template-columns: minmax(0, 1fr) auto auto;
    }
  }
  .timeline {
    container-type: inline-size;
  }
  .stats-grid {
    display: grid;
    grid-template-columns: repeat(4, minmax(0, 1fr));
    gap: 8px;
    margin: 0;
    padding: 10px 14px 4px;
  }
  .stats-grid dt {
    font-size: 11px;
    color: var(--tb-muted);
  }
  .stats-grid dd {
    margin: 0;
    font-weight: 600;
    font-variant-numeric: tabular-nums;
  }
  .sparkline {
    display: block;
    width: calc(100% - 28px);
    height: 32px;
    margin: 4px 14px 8px;
    color: var(--tb-accent);
  }
  .event-type.running {
    color: var(--tb-accent);
  }
  .event-type.cancelled {
    color: var(--tb-muted);
  }
`;
