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
  .task-row {
    display: grid;
    grid-template-columns: minmax(190px, 2.2fr) 92px minmax(150px, 2fr) 44px 70px 66px minmax(90px, 1.4fr) var(--tb-action-column, 0px);
    gap: 10px;
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
  .name strong {
    display: block;
    font-weight: 600;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
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
`;
