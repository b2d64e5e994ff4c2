/**
 * Fetches the published reference implementation, `@push.rocks/taskbuffer`,
 * with `npm pack` into `bench/.reference/` (git-ignored) and loads its
 * self-contained `dist_bundle/bundle.js`. The download is cached: a second
 * run only imports the extracted bundle.
 *
 * Run directly (`node --import tsx fetch-reference.ts`) to fetch it ahead of a
 * benchmark run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REFERENCE_PACKAGE = '@push.rocks/taskbuffer';
export const REFERENCE_VERSION = '3.5.0';

const benchDirectory = dirname(fileURLToPath(import.meta.url));
const referenceRoot = join(benchDirectory, '.reference', REFERENCE_VERSION);
const bundlePath = join(referenceRoot, 'package', 'dist_bundle', 'bundle.js');

/** The part of the reference API the benchmarks use. */
export interface ReferenceModule {
  Task: new (options: { name?: string; taskFunction: (input?: any) => unknown; buffered?: boolean; bufferMax?: number }) => {
    trigger(input?: unknown): Promise<unknown>;
  };
  TaskManager: new () => {
    addTask(task: unknown): void;
    triggerTaskByName(name: string): Promise<unknown>;
  };
}

/** Where the reference bundle lives once fetched (it may not exist yet). */
export function referenceBundlePath(): string {
  return bundlePath;
}

/**
 * Makes sure the reference bundle is on disk. Returns its path, or an error
 * message saying why it could not be fetched.
 */
export function ensureReference(): { path: string } | { error: string } {
  if (existsSync(bundlePath)) return { path: bundlePath };
  try {
    rmSync(referenceRoot, { recursive: true, force: true });
    mkdirSync(referenceRoot, { recursive: true });
    execFileSync('npm', ['pack', `${REFERENCE_PACKAGE}@${REFERENCE_VERSION}`, '--silent'], {
      cwd: referenceRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    const tarball = readdirSync(referenceRoot).find((name) => name.endsWith('.tgz'));
    if (tarball === undefined) throw new Error('`npm pack` produced no tarball');
    execFileSync('tar', ['xzf', tarball], { cwd: referenceRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    if (!existsSync(bundlePath)) throw new Error(`the tarball has no dist_bundle/bundle.js`);
    return { path: bundlePath };
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return { error: stderr || (error instanceof Error ? error.message : String(error)) };
  }
}

/** Fetches (if needed) and imports the reference; `undefined` with a printed reason when it cannot. */
export async function loadReference(): Promise<ReferenceModule | undefined> {
  const fetched = ensureReference();
  if ('error' in fetched) {
    console.log(
      `> Could not fetch ${REFERENCE_PACKAGE}@${REFERENCE_VERSION} (${fetched.error.split('\n')[0]}); measuring ours alone.\n`,
    );
    return undefined;
  }
  try {
    return (await import(pathToFileURL(fetched.path).href)) as ReferenceModule;
  } catch (error) {
    console.log(
      `> Could not import ${REFERENCE_PACKAGE}@${REFERENCE_VERSION} (${error instanceof Error ? error.message : String(error)}); measuring ours alone.\n`,
    );
    return undefined;
  }
}

// Run as a script (not when imported, nor when bundled into another script).
if (import.meta.url.endsWith('/fetch-reference.ts') && process.argv[1] === fileURLToPath(import.meta.url)) {
  const fetched = ensureReference();
  if ('error' in fetched) {
    console.error(`Could not fetch ${REFERENCE_PACKAGE}@${REFERENCE_VERSION}: ${fetched.error}`);
    process.exitCode = 1;
  } else {
    console.log(`${REFERENCE_PACKAGE}@${REFERENCE_VERSION}: ${fetched.path}`);
  }
}
