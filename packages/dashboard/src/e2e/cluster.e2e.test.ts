import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!hasChromium) console.warn(`[cluster e2e] skipped: no Chromium at ${chromiumPath} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
if (!hasRedis) console.warn('[cluster e2e] skipped: redis-server is not installed (apt-get install -y redis-server)');

const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Starts `pnpm demo:cluster` in a process group of its own and resolves with the dashboard's URL it prints. */
function startCluster(): { child: ChildProcess; url: Promise<string>; output: () => string } {
  // A private redis-server (no REDIS_URL), a free port for the dashboard, and an end of its own should this test not stop it.
  const { REDIS_URL: _ignored, ...env } = process.env;
  const child = spawn('pnpm', ['--silent', 'demo:cluster'], {
    cwd: root,
    env: { ...env, PORT: '0', DEMO_SECONDS: '240' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Merged dashboard of the 3 instances: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (match !== null) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`pnpm demo:cluster exited (${code}) before serving:\n${output}`)));
  });
  return { child, url, output: () => output };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    // The whole group: pnpm, the parent, the three instances and their redis-server.
    process.kill(-child.pid!, signal);
  } catch {
    // Gone already.
  }
}

function stopCluster(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return Promise.resolve();
  if (child.exitCode !== null || child.signalCode !== null) {
    signalGroup(child, 'SIGKILL');
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    signalGroup(child, 'SIGTERM');
    setTimeout(() => signalGroup(child, 'SIGKILL'), 10_000).unref();
  });
}

describe.skipIf(!hasChromium || !hasRedis)('pnpm demo:cluster', () => {
  let browser: Browser;
  let cluster: ReturnType<typeof startCluster> | undefined;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: chromiumPath, args: LAUNCH_ARGS, headless: true });
  });

  afterAll(async () => {
    if (cluster !== undefined) await stopCluster(cluster.child);
    await browser?.close();
  });

  it('serves the merged dashboard of its three instances: runs of all three appear, filtered by instance, and "Run" reaches an instance', async () => {
    cluster = startCluster();
    const url = await cluster.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

    const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(url);
    const dashboard = page.locator('taskbuffer-dashboard');
    await dashboard.locator('.connection[data-state="live"]').waitFor({ timeout: 20_000 });
    await expect
      .poll(async () => (await dashboard.locator('[data-presence]').textContent())?.replace(/\s+/g, ' ').trim(), {
        timeout: 20_000,
        interval: 250,
      })
      .toBe('3 instances live');

    // The run table of the timeline lists each run with its instance.
    const timeline = dashboard.locator('section.timeline');
    await timeline.getByRole('combobox', { name: 'Timeline span' }).selectOption('1');
    await timeline.getByRole('button', { name: 'Table' }).click();
    const instancesOfRuns = () =>
      page.evaluate(() => {
        const root = document.querySelector('taskbuffer-dashboard')!.shadowRoot!;
        const seen = new Set<string>();
        for (const row of root.querySelectorAll('.run-table [role="row"][data-run]')) {
          seen.add(row.querySelectorAll('[role="cell"]')[5]!.textContent!.trim());
        }
        return [...seen].sort();
      });
    await expect.poll(instancesOfRuns, { timeout: 30_000, interval: 250 }).toEqual(['instance-1', 'instance-2', 'instance-3']);

    // The instance filter shows one instance's runs only.
    const filter = dashboard.getByRole('combobox', { name: 'Instance' });
    expect(await filter.locator('option').allTextContents()).toEqual(['All instances', 'instance-1', 'instance-2', 'instance-3']);
    await filter.selectOption('instance-2');
    await expect.poll(instancesOfRuns, { timeout: 10_000, interval: 250 }).toEqual(['instance-2']);
    await filter.selectOption('');

    // "Run" goes through the relay to an instance that has the task.
    const orders = dashboard.locator('[data-task="process-order"]');
    await orders.getByRole('button', { name: 'Run process-order' }).click();
    await dashboard.getByRole('status').filter({ hasText: 'Triggered process-order' }).waitFor({ timeout: 15_000 });

    expect(pageErrors).toEqual([]);
    await page.close();
  }, 120_000);
});
