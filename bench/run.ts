/**
 * Runs every `bench/*.bench.ts`, or only those whose file name contains one of
 * the arguments (`pnpm bench core scheduler`), one after another, each in its
 * own process:
 *
 *   node --expose-gc --conditions=source --import tsx <file>
 *
 * `--conditions=source` makes `@taskbuffer/*` resolve to their TypeScript
 * sources, so no build is needed. Output is streamed as it comes. Exits
 * non-zero when a script could not run; a missed goal is printed as FAIL by
 * the script itself and is not an exit failure.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDirectory = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2).filter((argument) => argument !== '--');

const all = readdirSync(benchDirectory)
  .filter((name) => name.endsWith('.bench.ts'))
  .sort();
const selected = filters.length === 0 ? all : all.filter((name) => filters.some((filter) => name.includes(filter)));

if (selected.length === 0) {
  console.error(
    `No benchmark matches ${filters.map((filter) => `"${filter}"`).join(', ')}; available: ${all.join(', ') || 'none'}`,
  );
  process.exit(1);
}

function runScript(file: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--conditions=source', '--import', 'tsx', join(benchDirectory, file)],
      { cwd: benchDirectory, stdio: 'inherit' },
    );
    child.on('error', (error) => {
      console.error(`Could not start ${file}: ${error.message}`);
      resolve({ code: 1, signal: null });
    });
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
}

console.log('# taskbuffer benchmarks\n');
console.log(
  `Node ${process.version} on ${process.platform}/${process.arch}, ${cpus().length} × ` +
    `${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GB RAM. ` +
    `Command: \`pnpm bench${filters.length > 0 ? ` ${filters.join(' ')}` : ''}\`.\n`,
);

const failed: string[] = [];
for (const file of selected) {
  const started = performance.now();
  const { code, signal } = await runScript(file);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (code !== 0) {
    failed.push(file);
    console.error(`\n${file} failed (${signal ?? `exit code ${code}`}) after ${seconds} s\n`);
  } else {
    console.log(`_${file}: ${seconds} s_\n`);
  }
}

if (failed.length > 0) {
  console.error(`${failed.length} of ${selected.length} benchmark scripts failed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
