import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineProject, type Plugin } from 'vitest/config';
import { workspaceAliases } from '../../vitest.shared.ts';
import { blockSourceMap, composeBlock, extractBlocks, repositoryRoot } from './readme-blocks.ts';

const blockFile = /^(.*)\.block-(\d+)\.ts$/;

/**
 * Serves each README block as a module `<README>.block-<line>.ts` beside its
 * README (no such file exists), read from the README when it is imported.
 */
function readmeBlocks(): Plugin {
  return {
    name: 'readme-blocks',
    enforce: 'pre',
    resolveId(id) {
      return blockFile.test(id) && id.startsWith(repositoryRoot) ? id : undefined;
    },
    load(id) {
      const match = blockFile.exec(id);
      if (!match || !id.startsWith(repositoryRoot)) return undefined;
      const readme = match[1]!.slice(repositoryRoot.length);
      const text = readFileSync(join(repositoryRoot, readme), 'utf8');
      const block = extractBlocks(readme, text).find((candidate) => candidate.line === Number(match[2]));
      if (!block) throw new Error(`${readme} has no \`\`\`ts block at line ${match[2]}`);
      const composed = composeBlock(block);
      return { code: composed.text, map: blockSourceMap(block, composed, text) };
    },
  };
}

export default defineProject({
  plugins: [readmeBlocks()],
  resolve: { alias: workspaceAliases },
  test: {
    name: 'readme-examples',
    include: ['*.test.ts'],
    // One TypeScript program for every block takes a few seconds on a busy machine.
    hookTimeout: 120_000,
    testTimeout: 30_000,
  },
});
