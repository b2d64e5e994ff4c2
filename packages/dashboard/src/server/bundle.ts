import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The element's browser bundle, ready to serve. */
export interface DashboardBundle {
  code: string;
  etag: string;
  /** Where it came from: a file, or a build from the sources. */
  origin: string;
}

// Running from the sources (tests, the demo without a build), the bundle is built on first use.
const sourceEntry = fileURLToPath(new URL('../index.ts', import.meta.url));
const fromSource = existsSync(sourceEntry);
// A built package serves the bundle made at build time, in dist/browser/.
const builtBundle = fileURLToPath(
  new URL(fromSource ? '../../dist/browser/taskbuffer-dashboard.js' : '../browser/taskbuffer-dashboard.js', import.meta.url),
);

const cache = new Map<string, Promise<DashboardBundle>>();

function withEtag(code: string, origin: string): DashboardBundle {
  const hash = createHash('sha1').update(code).digest('base64url').slice(0, 16);
  return { code, etag: `"${hash}"`, origin };
}

async function buildFromSource(): Promise<DashboardBundle> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (error) {
    throw new Error(
      'The dashboard bundle is not built and esbuild is not installed to build it: ' +
        'run `pnpm --filter @taskbuffer/dashboard build`, or pass `bundlePath`',
      { cause: error },
    );
  }
  const result = await esbuild.build({
    entryPoints: [sourceEntry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error('Building the dashboard bundle produced no output');
  return withEtag(output.text, sourceEntry);
}

/**
 * Loads the element's bundle: `bundlePath` when given; else the one built
 * from the sources when running from them; else the one in `dist/`.
 */
export function loadDashboardBundle(bundlePath?: string): Promise<DashboardBundle> {
  const key = bundlePath ?? '';
  let promise = cache.get(key);
  if (promise === undefined) {
    if (bundlePath !== undefined) {
      promise = readFile(bundlePath, 'utf8').then((code) => withEtag(code, bundlePath));
    } else if (fromSource) {
      promise = buildFromSource().catch(async (error: unknown) => {
        if (existsSync(builtBundle)) return withEtag(await readFile(builtBundle, 'utf8'), builtBundle);
        throw error;
      });
    } else {
      promise = readFile(builtBundle, 'utf8').then((code) => withEtag(code, builtBundle));
    }
    // A failure is not cached: the next request tries again (after a build, say).
    promise.catch(() => cache.delete(key));
    cache.set(key, promise);
  }
  return promise;
}
