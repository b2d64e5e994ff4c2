import { describe, expect, it } from 'vitest';
import { ReadmeConventionError, composeBlock, extractBlocks } from './readme-blocks.ts';

const readme = [
  '# Title', //                                  1
  '', //                                         2
  '```bash', //                                  3
  'pnpm add x', //                               4
  '```', //                                      5
  '', //                                         6
  '<!-- readme-check: before', //                7
  'const stand = 1;', //                         8
  '-->', //                                      9
  '<!-- readme-check: typecheck-only: needs a port -->', // 10
  '<!-- readme-check: after', //                 11
  'cleanup();', //                               12
  '-->', //                                      13
  '```ts', //                                    14
  'const a = stand;', //                         15
  'const b = a;', //                             16
  '```', //                                      17
  '', //                                         18
  '```typescript', //                            19
  'const c = 3;', //                             20
  '```', //                                      21
].join('\n');

describe('extractBlocks', () => {
  it('finds ts blocks with the comments before them, and skips other languages', () => {
    const blocks = extractBlocks('docs/sample.md', readme);
    expect(blocks.map((block) => [block.line, block.code, block.typecheckOnly, block.needsRedis])).toEqual([
      [14, 'const a = stand;\nconst b = a;', 'needs a port', false],
      [19, 'const c = 3;', undefined, false],
    ]);
    expect(blocks[0]!.before).toEqual({ code: 'const stand = 1;', line: 8 });
    expect(blocks[0]!.after).toEqual({ code: 'cleanup();', line: 12 });
    expect(blocks[0]!.fileName).toMatch(/\/docs\/sample\.md\.block-14\.ts$/);
  });

  it.each([
    ['a comment before prose', '<!-- readme-check: needs redis -->\nSome text.\n```ts\nx;\n```', 1, 'is not followed by a ```ts block'],
    ['a comment before a bash block', '<!-- readme-check: needs redis -->\n```bash\nls\n```', 1, 'is not followed by a ```ts block'],
    ['typecheck-only without a reason', 'text\n<!-- readme-check: typecheck-only -->\n```ts\nx;\n```', 2, 'needs a reason'],
    ['an unknown directive', '<!-- readme-check: skip -->\n```ts\nx;\n```', 1, 'unknown readme-check directive "skip"'],
    ['an unclosed block', '```ts\nx;\n', 1, 'code block is not closed'],
  ])('refuses %s, naming the README line', (_case, text, line, message) => {
    expect(() => extractBlocks('README.md', text)).toThrow(ReadmeConventionError);
    expect(() => extractBlocks('README.md', text)).toThrow(`README.md:${line}: `);
    expect(() => extractBlocks('README.md', text)).toThrow(message);
  });
});

describe('composeBlock', () => {
  it('puts before, block and after in one module and maps each line to its README line', () => {
    const [block] = extractBlocks('docs/sample.md', readme);
    const composed = composeBlock(block!);
    expect(composed.text).toBe('const stand = 1;\nconst a = stand;\nconst b = a;\ncleanup();\nexport {};\n');
    expect(composed.readmeLines).toEqual([8, 15, 16, 12, 14]);
  });
});
