import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** What the demo module exports; kept here so the package's typecheck does not follow into the examples. */
interface Demo {
  readonly url: string;
  readonly missing: string[];
  stop(): Promise<void>;
}
type StartDemo = (options: { port?: number; output?: false }) => Promise<Demo>;

const demoModule = fileURLToPath(new URL('../../../../examples/demo/start-demo.ts', import.meta.url));
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);
if (!hasChromium) {
  console.warn(`[dashboard e2e] skipped: no Chromium at ${chromiumPath} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
}
// `UPDATE_SCREENSHOT=1` refreshes the screenshots the README shows; otherwise they go to test-results/.
const screenshotPath = fileURLToPath(
  process.env.UPDATE_SCREENSHOT
    ? new URL('../../../../docs/dashboard.png', import.meta.url)
    : new URL('../../test-results/demo-dashboard.png', import.meta.url),
);
const timelinePath = fileURLToPath(
  process.env.UPDATE_SCREENSHOT
    ? new URL('../../../../docs/timeline.png', import.meta.url)
    : new URL('../../test-results/demo-timeline.png', import.meta.url),
);

const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe.skipIf(!hasChromium)('pnpm demo', () => {
  let browser: Browser;
  let demo: Demo | undefined;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: chromiumPath, args: LAUNCH_ARGS, headless: true });
  });

  afterAll(async () => {
    await demo?.stop();
    await browser?.close();
  });

  it('serves a live dashboard: tasks and progress change without a reload, and a stopped manager shows as stopped', async () => {
    const { startDemo } = (await import(demoModule)) as { startDemo: StartDemo };
    demo = await startDemo({ port: 0, output: false });
    expect(demo.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

    const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations++;
    });

    await page.goto(demo.url);
    const dashboard = page.locator('taskbuffer-dashboard');
    await dashboard.locator('.connection[data-state="live"]').waitFor({ timeout: 15_000 });
    const rows = dashboard.locator('[role="listitem"]');
    await rows.first().waitFor();
    expect(await rows.count()).toBeGreaterThanOrEqual(15);
    expect(await dashboard.locator('[data-task="acme:deploy-web"] [role="progressbar"]').count()).toBe(1);

    const readState = () =>
      page.evaluate(() => {
        const root = document.querySelector('taskbuffer-dashboard')!.shadowRoot!;
        return [...root.querySelectorAll('[role="listitem"]')].map((row) => ({
          name: row.getAttribute('data-task')!,
          progress: row.querySelector('[role="progressbar"]')!.getAttribute('aria-valuenow'),
          status: row.querySelector('[data-status]')!.textContent,
          runs: Number(row.querySelector('.numeric')!.textContent),
        }));
      });
    const before = await readState();
    const runsBefore = before.reduce((sum, row) => sum + row.runs, 0);
    // The workload keeps going: within seconds some bar moves and runs are counted, all over SSE.
    await expect
      .poll(
        async () => {
          const now = await readState();
          const moved = now.some((row) => {
            const earlier = before.find((entry) => entry.name === row.name);
            return earlier !== undefined && (earlier.progress !== row.progress || earlier.status !== row.status);
          });
          return moved && now.reduce((sum, row) => sum + row.runs, 0) > runsBefore;
        },
        { timeout: 20_000, interval: 250 },
      )
      .toBe(true);

    // For the screenshot, wait for a moment with a run in the middle of its steps (and, for the
    // README's picture, one with a failure on screen too).
    const wanted = process.env.UPDATE_SCREENSHOT ? ['mid-run', 'failed'] : ['mid-run'];
    await expect
      .poll(
        async () => {
          const state = await readState();
          const seen = new Set<string>();
          if (state.some((row) => row.status === 'running' && Number(row.progress) > 0 && Number(row.progress) < 100)) {
            seen.add('mid-run');
          }
          if (state.some((row) => row.status === 'failed')) seen.add('failed');
          return wanted.every((entry) => seen.has(entry));
        },
        { timeout: 60_000, interval: 100 },
      )
      .toBe(true);
    mkdirSync(dirname(screenshotPath), { recursive: true });
    await page.screenshot({ path: screenshotPath });

    // The run history travels over SSE: the timeline's table lists runs that the server kept.
    const timeline = dashboard.locator('section.timeline');
    await timeline.getByRole('combobox', { name: 'Timeline span' }).selectOption('1');
    await timeline.getByRole('button', { name: 'Table' }).click();
    await expect
      .poll(() => timeline.locator('[role="table"] [role="row"][data-run]').count(), { timeout: 20_000, interval: 250 })
      .toBeGreaterThan(5);
    const outcomes = await timeline.locator('[role="table"] [role="row"][data-run] .event-type').allTextContents();
    expect(outcomes.some((outcome) => outcome === 'completed')).toBe(true);
    await timeline.getByRole('button', { name: 'Table' }).click();
    // A run's details on hover, for the picture.
    const canvas = timeline.locator('canvas');
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width - 60, box.y + 28);
    mkdirSync(dirname(timelinePath), { recursive: true });
    await timeline.screenshot({ path: timelinePath });

    // The demo allows triggering from this machine: "Run" goes through the server to the manager.
    const rollup = dashboard.locator('[data-task="acme:billing-rollup"]');
    const rollupBefore = (await readState()).find((row) => row.name === 'acme:billing-rollup')!;
    await rollup.getByRole('button', { name: 'Run acme:billing-rollup' }).click();
    await dashboard.getByRole('status').filter({ hasText: 'Triggered acme:billing-rollup' }).waitFor({ timeout: 10_000 });
    await expect
      .poll(
        async () => {
          const row = (await readState()).find((entry) => entry.name === 'acme:billing-rollup')!;
          return row.status === 'running' || row.runs > rollupBefore.runs;
        },
        { timeout: 15_000, interval: 100 },
      )
      .toBe(true);

    expect(navigations).toBe(1);
    expect(pageErrors).toEqual([]);

    await demo.stop();
    demo = undefined;
    // The manager drained and stopped: the page says so and does not retry.
    const banner = dashboard.locator('.banner.stopped');
    await banner.waitFor({ timeout: 10_000 });
    expect(await banner.textContent()).toMatch(/Stopped[\s\S]*has stopped/);
    // The tasks seen last stay on screen.
    expect(await rows.count()).toBeGreaterThanOrEqual(15);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 90_000);
});
