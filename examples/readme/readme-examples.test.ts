/**
 * Every ```ts block of README.md, packages/*\/README.md and docs/*.md is
 * type-checked against the workspace sources and, unless marked otherwise,
 * run. The READMEs are read when the tests run, so an edited README is what
 * gets checked.
 *
 * ## Writing a README block
 *
 * A block is a module of its own: it compiles with the repository's strict
 * tsconfig and imports `@taskbuffer/*` as a user would. Where a block builds
 * on an earlier one, or uses something the reader supplies (`runBackup()`,
 * an ACME client), say so with an HTML comment right before the fence;
 * readers do not see it. Several comments may precede one block:
 *
 *     <!-- readme-check: before
 *     const runBackup = async () => 'backed up';
 *     -->
 *     <!-- readme-check: after
 *     import assert from 'node:assert/strict';
 *     await manager.stop();
 *     -->
 *     <!-- readme-check: typecheck-only: listens on port 3000 -->
 *     <!-- readme-check: needs redis -->
 *     ```ts
 *     …
 *     ```
 *
 * - `before`: code placed before the block: the imports and stand-ins it
 *   assumes. Stand-ins are real values (not `declare`), so the block can run.
 * - `after`: code placed after the block: cleanup (stop what it started, so
 *   nothing is left running) and asserts that what the block's comments
 *   claim is true.
 * - `typecheck-only: <reason>`: the block is compiled, never run. For blocks
 *   that cannot run here (a fixed port, a package we do not depend on,
 *   clients that nothing closes); the reason is required. `declare` is fine
 *   in such a block's `before`.
 * - `needs redis`: a private redis-server is started on a free loopback
 *   port for the run, its URL in `REDIS_URL`.
 *
 * Only ```ts and ```typescript fences are checked; ```bash, ```html and the
 * like are not. A failure names the README, the line and the diagnostic.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisServer, redisServerInstalled } from '../../packages/coordinator-redis/test/redis-server.ts';
import { type BlockDiagnostic, type ReadmeBlock, readAllBlocks, typecheckBlocks } from './readme-blocks.ts';

const blocks = readAllBlocks();
const byReadme = new Map<string, ReadmeBlock[]>();
for (const block of blocks) byReadme.set(block.readme, [...(byReadme.get(block.readme) ?? []), block]);

let diagnostics: Map<string, BlockDiagnostic[]>;
beforeAll(() => {
  diagnostics = typecheckBlocks(blocks);
});

let redis: RedisServer | undefined;
afterAll(async () => {
  await redis?.stop();
});

async function redisUrl(): Promise<string> {
  redis ??= await RedisServer.start();
  return redis.url;
}

describe('README code blocks', () => {
  it('finds the blocks of every README', () => {
    expect([...byReadme.keys()]).toEqual(expect.arrayContaining(['README.md', 'packages/core/README.md']));
  });

  for (const [readme, readmeBlocks] of byReadme) {
    describe(readme, () => {
      for (const block of readmeBlocks) {
        it(`${readme}:${block.line} compiles`, () => {
          const found = diagnostics.get(block.fileName) ?? [];
          const report = found.map((diagnostic) => `${readme}:${diagnostic.line}: ${diagnostic.message}`).join('\n');
          expect(report, `the block at ${readme}:${block.line} does not compile`).toBe('');
        });

        if (block.typecheckOnly !== undefined) continue;
        const needsMissingRedis = block.needsRedis && !redisServerInstalled;
        if (needsMissingRedis) console.warn(`${readme}:${block.line} needs redis-server, which is not installed: not run`);
        it.skipIf(needsMissingRedis)(`${readme}:${block.line} runs`, async () => {
          const saved = process.env.REDIS_URL;
          if (block.needsRedis) process.env.REDIS_URL = await redisUrl();
          // What the example prints is for its reader, not for the test log.
          for (const method of ['log', 'info', 'warn'] as const) vi.spyOn(console, method).mockImplementation(() => {});
          try {
            await import(/* @vite-ignore */ block.fileName);
          } catch (error) {
            throw new Error(`the block at ${readme}:${block.line} failed when run`, { cause: error });
          } finally {
            vi.restoreAllMocks();
            if (saved === undefined) delete process.env.REDIS_URL;
            else process.env.REDIS_URL = saved;
          }
        });
      }
    });
  }
});
