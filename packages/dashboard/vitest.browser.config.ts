import { existsSync } from 'node:fs';
import { playwright } from '@vitest/browser-playwright';
import { defineProject } from 'vitest/config';
import { workspaceAliases } from '../../vitest.shared.ts';

// Playwright never downloads a browser here: the tests use the system's Chromium.
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);
if (!hasChromium) {
  console.warn(
    `[dashboard-browser] skipped: no Chromium at ${chromiumPath} (install it, e.g. apt-get install -y chromium, or set CHROMIUM_PATH)`,
  );
}

export default defineProject({
  resolve: { alias: workspaceAliases },
  test: {
    name: 'dashboard-browser',
    include: hasChromium ? ['src/**/*.browser.test.ts'] : [],
    passWithNoTests: true,
    testTimeout: 20_000,
    browser: {
      enabled: hasChromium,
      headless: true,
      screenshotFailures: false,
      provider: playwright({
        launchOptions: {
          executablePath: chromiumPath,
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        },
      }),
      instances: [{ browser: 'chromium' }],
    },
  },
});
