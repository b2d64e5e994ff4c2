import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer, redisServerInstalled } from './redis-server.js';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The README's code block that contains `marker`. */
function readmeBlock(marker: string): string {
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
  const block = blocks.find((code) => code.includes(marker));
  if (block === undefined) throw new Error(`No \`\`\`ts block in the README contains ${marker}`);
  return block;
}

/**
 * Runs a program in a child process; resolves with its exit code (or 'hung'),
 * and how long it lived after printing `mark`.
 */
function run(
  file: string,
  env: Record<string, string>,
  mark: string,
  timeoutMs: number,
): Promise<{ code: number | 'hung'; output: string; afterMark: number | undefined }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', file], {
      cwd: packageDir,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let markedAt: number | undefined;
    let timer: ReturnType<typeof setTimeout>;
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (markedAt !== undefined || !output.includes(mark)) return;
      markedAt = Date.now();
      // Done, yet still alive 10 s later: something keeps it running.
      clearTimeout(timer);
      timer = setTimeout(hang, 10_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const settle = (code: number | 'hung') =>
      resolve({ code, output, afterMark: markedAt === undefined ? undefined : Date.now() - markedAt });
    const hang = () => {
      child.kill('SIGKILL');
      settle('hung');
    };
    timer = setTimeout(hang, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      settle(code ?? -1);
    });
  });
}

describe.skipIf(!redisServerInstalled)('README', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterAll(async () => {
    await server?.stop();
  });

  describe('the ioredis example', () => {
    it(
      'runs and lets the process exit after manager.stop()',
      async () => {
        const file = join(packageDir, 'test', `.readme-ioredis-${process.pid}.ts`);
        // The mark is printed once the example's last line has run.
        writeFileSync(file, `${readmeBlock('await redis.quit()')}\nconsole.log('example done');\n`);
        try {
          // Starting a TypeScript child on a loaded machine can take most of a minute;
          // what counts is how long the process lives once the example is done.
          const result = await run(file, { REDIS_URL: server.url }, 'example done', 150_000);
          expect(result.output).toBe('example done\n');
          expect(result.code).toBe(0);
          expect(result.afterMark).toBeLessThan(10_000);
        } finally {
          rmSync(file, { force: true });
        }
      },
      180_000,
    );
  });
});
