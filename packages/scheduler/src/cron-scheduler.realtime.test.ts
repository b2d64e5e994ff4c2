import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Task, TaskManager } from '@taskbuffer/core';
import { describe, expect, it } from 'vitest';
import { CronScheduler } from './cron-scheduler.js';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));

function runFixture(mode: string): Promise<{ code: number | null; output: string; exitedAt: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'test/fixtures/exit-after-stop.ts', mode],
      { cwd: packageRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const killer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the process did not exit by itself after stop():\n${output}`));
    }, 12_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, output, exitedAt: Date.now() });
    });
  });
}

describe('CronScheduler', () => {
  describe('in real time', () => {
    it('fires a `* * * * * *` task about once a second, close to the second', async () => {
      const manager = new TaskManager({ scheduler: new CronScheduler({ timezone: 'UTC' }) });
      const starts: number[] = [];
      manager.addAndScheduleTask(new Task({ name: 'tick', taskFunction: () => void starts.push(Date.now()) }), '* * * * * *');
      await manager.start();
      await new Promise((resolve) => setTimeout(resolve, 3500));
      await manager.stop();
      expect(starts.length).toBeGreaterThanOrEqual(2);
      expect(starts.length).toBeLessThanOrEqual(4);
      for (const start of starts) expect(start % 1000).toBeLessThan(400);
      const seconds = starts.map((start) => Math.floor(start / 1000));
      expect(new Set(seconds).size).toBe(seconds.length);
    }, 10_000);

    it.each(['default', 'unref'])('lets a process exit by itself after stop() (%s timer)', async (mode) => {
      const { code, output, exitedAt } = await runFixture(mode);
      expect(code, output).toBe(0);
      expect(output).toContain('run 2');
      const stoppedAt = Number(/stopped (\d+)/.exec(output)?.[1]);
      expect(exitedAt - stoppedAt).toBeLessThan(3000);
      expect(output).not.toContain('run 3');
    }, 20_000);
  });
});
