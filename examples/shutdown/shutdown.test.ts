import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

interface Line {
  event: string;
  task?: string;
  error?: string;
  running?: number;
  waiting?: number;
}

describe('a service that drains its TaskManager on SIGTERM', () => {
  it('finishes every run that started before the signal, cuts none, and exits on its own', async () => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(here, 'service.ts')], {
      cwd: here,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Line[] = [];
    let stderr = '';
    let buffer = '';
    let signalled = false;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Never wait forever, whatever the service does: a hung child fails the test.
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        const line = JSON.parse(buffer.slice(0, newline)) as Line;
        buffer = buffer.slice(newline + 1);
        lines.push(line);
        // Signal while runs are under way and more wait on the per-account constraint.
        if (!signalled && lines.filter((entry) => entry.event === 'started').length >= 6) {
          signalled = true;
          child.kill('SIGTERM');
        }
      }
    });
    const code = await exited;
    clearTimeout(killer);
    expect(stderr).toBe('');
    expect(code).toBe(0);

    const sigterm = lines.findIndex((line) => line.event === 'sigterm');
    const stopped = lines.findIndex((line) => line.event === 'manager-stopped');
    expect(sigterm).toBeGreaterThan(0);
    expect(lines[sigterm]!.running).toBeGreaterThan(0);
    expect(stopped).toBeGreaterThan(sigterm);
    expect(lines[stopped]!.running).toBe(0);

    // Every run that started (before the signal, or from a trigger accepted before it) completed; none failed.
    const started = lines.filter((line) => line.event === 'started').map((line) => line.task);
    const completed = lines.filter((line) => line.event === 'completed').map((line) => line.task);
    expect(lines.filter((line) => line.event === 'failed')).toEqual([]);
    expect(completed.sort()).toEqual(started.sort());
    // Their events were still forwarded, before the manager reported it had stopped.
    expect(lines.slice(stopped).filter((line) => line.event === 'completed')).toEqual([]);
    const startedBeforeSignal = lines.slice(0, sigterm).filter((line) => line.event === 'started').length;
    expect(completed.length).toBeGreaterThanOrEqual(startedBeforeSignal);
  }, 90_000);
});
