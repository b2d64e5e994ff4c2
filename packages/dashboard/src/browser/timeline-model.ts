import type { DashboardRun } from '../protocol.js';

/** One lane of the timeline: a task and its runs, oldest first. */
export interface TimelineLane {
  name: string;
  runs: readonly DashboardRun[];
  /** Upcoming scheduled ticks (epoch ms), drawn as ghost marks. */
  ticks: readonly number[];
}

/** What one drawing of the timeline covers. */
export interface TimelineView {
  lanes: readonly TimelineLane[];
  /** Epoch ms at the left and right edge of the plot. */
  from: number;
  to: number;
  /** The present, for runs that have not ended. */
  now: number;
  /** CSS pixels. */
  width: number;
  gutter: number;
  laneHeight: number;
  axisHeight: number;
  /** How far the lanes are scrolled, in CSS pixels; the axis stays on top. */
  scrollTop: number;
  /** The height of the canvas: only the lanes in it are drawn. */
  viewHeight: number;
}

export interface TimelineColors {
  text: string;
  muted: string;
  border: string;
  running: string;
  completed: string;
  failed: string;
  cancelled: string;
  skipped: string;
  wait: string;
  cooldown: string;
  now: string;
}

/** The start of what is drawn for a run: its wait, else its start, else its end (a skip). */
export function runBegin(run: DashboardRun): number | undefined {
  return run.queuedAt ?? run.startedAt ?? run.endedAt;
}

/** The end of what is drawn for a run; a run that goes on ends at `now`. */
export function runEnd(run: DashboardRun, now: number): number {
  return run.endedAt ?? Math.max(now, run.startedAt ?? run.queuedAt ?? now);
}

/** The runs of a lane that show between `from` and `to`. */
export function visibleRuns(lane: TimelineLane, from: number, to: number, now: number): DashboardRun[] {
  const visible: DashboardRun[] = [];
  for (const run of lane.runs) {
    const begin = runBegin(run);
    if (begin === undefined || begin > to) continue;
    if (runEnd(run, now) < from) continue;
    visible.push(run);
  }
  return visible;
}

/** How many runs of the lanes show between `from` and `to`. */
export function countVisibleRuns(lanes: readonly TimelineLane[], from: number, to: number, now: number): number {
  let count = 0;
  for (const lane of lanes) {
    for (const run of lane.runs) {
      const begin = runBegin(run);
      if (begin !== undefined && begin <= to && runEnd(run, now) >= from) count++;
    }
  }
  return count;
}

/** Pixel x of an instant. */
export function xOf(view: TimelineView, time: number): number {
  const plot = view.width - view.gutter;
  return view.gutter + ((time - view.from) / (view.to - view.from)) * plot;
}

/** The full height of the drawing, in CSS pixels. */
export function timelineHeight(view: Pick<TimelineView, 'lanes' | 'laneHeight' | 'axisHeight'>): number {
  return view.axisHeight + Math.max(1, view.lanes.length) * view.laneHeight;
}

/** The run under a point (CSS pixels), if any: the nearest bar within a few pixels. */
export function runAt(view: TimelineView, x: number, y: number): { lane: number; run: DashboardRun } | undefined {
  if (y < view.axisHeight) return undefined;
  const laneIndex = Math.floor((y - view.axisHeight + view.scrollTop) / view.laneHeight);
  const lane = view.lanes[laneIndex];
  if (lane === undefined || x < view.gutter) return undefined;
  let best: DashboardRun | undefined;
  let bestDistance = 4;
  for (const run of lane.runs) {
    const begin = run.startedAt ?? run.endedAt ?? run.queuedAt;
    if (begin === undefined) continue;
    const left = xOf(view, run.queuedAt ?? begin);
    const right = Math.max(xOf(view, runEnd(run, view.now)), xOf(view, begin) + 2);
    const distance = x < left ? left - x : x > right ? x - right : 0;
    if (distance < bestDistance || (distance === 0 && bestDistance === 0)) {
      best = run;
      bestDistance = distance;
    }
  }
  return best === undefined ? undefined : { lane: laneIndex, run: best };
}

/** Most runs of one task drawn side by side in its lane; more overlapping runs share the last row. */
const MAX_ROWS = 3;

/**
 * Gives each run of a lane a row, so runs that overlap in time sit one above
 * the other instead of on top of each other. Returns the row of every run
 * (by position in `runs`) and how many rows the lane needs.
 */
export function laneRows(runs: readonly DashboardRun[], now: number): { rows: number[]; count: number } {
  const ends: number[] = [];
  const rows: number[] = [];
  for (const run of runs) {
    const begin = run.status === 'skipped' ? undefined : (run.queuedAt ?? run.startedAt);
    if (begin === undefined) {
      rows.push(0);
      continue;
    }
    let row = ends.findIndex((end) => end <= begin);
    if (row === -1) row = ends.length < MAX_ROWS ? ends.length : MAX_ROWS - 1;
    ends[row] = Math.max(ends[row] ?? 0, runEnd(run, now));
    rows.push(row);
  }
  return { rows, count: Math.max(1, ends.length) };
}

const STEPS_MS = [1000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000];

const patterns = new WeakMap<CanvasRenderingContext2D, Map<string, CanvasPattern | string>>();

/** A diagonal hatch in one colour as a fill pattern, made once per context and colour. */
function hatchPattern(context: CanvasRenderingContext2D, color: string): CanvasPattern | string {
  let cache = patterns.get(context);
  if (cache === undefined) patterns.set(context, (cache = new Map()));
  let pattern = cache.get(color);
  if (pattern === undefined) {
    const tile = document.createElement('canvas');
    tile.width = 4;
    tile.height = 4;
    const tileContext = tile.getContext('2d');
    if (tileContext !== null) {
      tileContext.strokeStyle = color;
      tileContext.lineWidth = 1;
      tileContext.beginPath();
      tileContext.moveTo(0, 4);
      tileContext.lineTo(4, 0);
      tileContext.stroke();
    }
    pattern = context.createPattern(tile, 'repeat') ?? color;
    cache.set(color, pattern);
  }
  return pattern;
}

/**
 * Draws the timeline onto a 2D canvas context scaled to CSS pixels: one lane
 * per task, a bar per run coloured by outcome, skipped runs as tick marks, a
 * thin hatched segment for a wait (a cooldown in its own colour), ghost marks
 * for upcoming ticks, and the time axis.
 */
export function drawTimeline(
  context: CanvasRenderingContext2D,
  view: TimelineView,
  colors: TimelineColors,
  focused: DashboardRun | undefined,
): number {
  const { width, gutter, laneHeight, axisHeight, from, to, now, scrollTop, viewHeight } = view;
  const fullHeight = viewHeight;
  // Only the lanes that show are drawn (the canvas stays put while the lanes scroll under it).
  const firstLane = Math.max(0, Math.floor(scrollTop / laneHeight));
  const lastLane = Math.min(view.lanes.length - 1, Math.ceil((scrollTop + viewHeight - axisHeight) / laneHeight));
  const laneTop = (index: number) => axisHeight + index * laneHeight - scrollTop;
  context.clearRect(0, 0, width, fullHeight);
  const scale = (width - gutter) / (to - from);
  const x = (time: number) => gutter + (time - from) * scale;

  // The axis: a label every step that leaves about 90 px between labels.
  const step = STEPS_MS.find((candidate) => candidate * scale >= 90) ?? 1_800_000;
  context.font = '11px system-ui, sans-serif';
  context.textBaseline = 'middle';
  context.fillStyle = colors.muted;
  context.strokeStyle = colors.border;
  context.lineWidth = 1;
  context.beginPath();
  const axisTicks: number[] = [];
  for (let tick = Math.ceil(from / step) * step; tick <= to; tick += step) {
    const px = Math.round(x(tick)) + 0.5;
    context.moveTo(px, axisHeight - 4);
    context.lineTo(px, fullHeight);
    axisTicks.push(tick);
  }
  context.stroke();

  const barHeight = Math.max(4, laneHeight - 6);
  const byColor = new Map<string, Array<[number, number, number, number]>>();
  const add = (color: string, left: number, top: number, barWidth: number, h: number) => {
    let list = byColor.get(color);
    if (list === undefined) byColor.set(color, (list = []));
    list.push([left, top, barWidth, h]);
  };
  const waits: Array<[number, number, number, boolean]> = [];
  const ghosts: Array<[number, number]> = [];

  for (let index = firstLane; index <= lastLane; index++) {
    const lane = view.lanes[index]!;
    const top = laneTop(index);
    const runs = visibleRuns(lane, from, to, now);
    const { rows, count } = laneRows(runs, now);
    const rowHeight = barHeight / count;
    for (const [position, run] of runs.entries()) {
      const begin = runBegin(run)!;
      const end = runEnd(run, now);
      const barTop = top + (laneHeight - barHeight) / 2 + rows[position]! * rowHeight;
      const height = Math.max(2, rowHeight - (count > 1 ? 1 : 0));
      if (run.status === 'skipped') {
        add(colors.skipped, x(run.endedAt ?? begin) - 1, top + 2, 2, laneHeight - 4);
        continue;
      }
      if (run.queuedAt !== undefined) {
        const waitEnd = run.startedAt ?? end;
        const cooldownFrom = run.cooldownMs === undefined ? waitEnd : Math.max(run.queuedAt, waitEnd - run.cooldownMs);
        if (cooldownFrom > run.queuedAt) waits.push([x(run.queuedAt), x(cooldownFrom), barTop + height / 2, false]);
        if (waitEnd > cooldownFrom) waits.push([x(cooldownFrom), x(waitEnd), barTop + height / 2, true]);
      }
      if (run.startedAt === undefined) continue;
      const left = x(Math.max(run.startedAt, from - 1000));
      const barWidth = Math.max(2, x(Math.min(end, to + 1000)) - left);
      add(colors[run.status === 'queued' ? 'running' : run.status], left, barTop, barWidth, height);
    }
    for (const tick of lane.ticks) if (tick >= from && tick <= to) ghosts.push([x(tick), top]);
  }

  // Grouped by colour: one fillStyle change per outcome, not per bar.
  for (const [color, rects] of byColor) {
    context.fillStyle = color;
    for (const [left, top, barWidth, h] of rects) context.fillRect(left, top, barWidth, h);
  }
  // Waits are hatched by pattern fills: no path or clip per segment.
  for (const cooling of [false, true]) {
    context.fillStyle = hatchPattern(context, cooling ? colors.cooldown : colors.wait);
    for (const [left, right, middle, isCooling] of waits) {
      if (isCooling === cooling) context.fillRect(left, middle - 3, Math.max(1, right - left), 6);
    }
  }
  context.strokeStyle = colors.muted;
  context.setLineDash([2, 2]);
  context.beginPath();
  for (const [px, top] of ghosts) {
    context.moveTo(Math.round(px) + 0.5, top + 2);
    context.lineTo(Math.round(px) + 0.5, top + laneHeight - 2);
  }
  context.stroke();
  context.setLineDash([]);

  // Task names in the gutter, cut to fit (the table view and the task list show them whole).
  context.fillStyle = colors.text;
  context.textBaseline = 'middle';
  for (let index = firstLane; index <= lastLane; index++) {
    let name = view.lanes[index]!.name;
    if (context.measureText(name).width > gutter - 8) {
      while (name.length > 1 && context.measureText(`${name}…`).width > gutter - 8) name = name.slice(0, -1);
      name = `${name}…`;
    }
    context.fillText(name, 4, laneTop(index) + laneHeight / 2);
  }
  // The axis goes on last: lanes scrolled up pass under it.
  context.clearRect(0, 0, width, axisHeight - 2);
  context.fillStyle = colors.muted;
  for (const tick of axisTicks) {
    const date = new Date(tick);
    const two = (value: number) => String(value).padStart(2, '0');
    const label =
      step < 60_000
        ? `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`
        : `${two(date.getHours())}:${two(date.getMinutes())}`;
    context.fillText(label, Math.round(x(tick)) + 3, axisHeight / 2);
  }

  if (now >= from && now <= to) {
    context.fillStyle = colors.now;
    context.fillRect(Math.round(x(now)), axisHeight - 4, 1, fullHeight - axisHeight + 4);
  }

  if (focused !== undefined) {
    const index = view.lanes.findIndex((lane) => lane.name === focused.taskName);
    const begin = focused.startedAt ?? focused.endedAt ?? focused.queuedAt;
    if (index >= firstLane && index <= lastLane && begin !== undefined) {
      const top = laneTop(index);
      const left = x(focused.queuedAt ?? begin) - 2;
      const right = Math.max(x(runEnd(focused, now)), x(begin) + 2) + 2;
      context.strokeStyle = colors.text;
      context.lineWidth = 2;
      context.strokeRect(left, top + 1, right - left, laneHeight - 2);
    }
  }
  return fullHeight;
}
