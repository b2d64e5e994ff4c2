import { fileURLToPath } from 'node:url';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Tests run against the sources of sibling packages, not their `dist/`, so a
 * change in core is seen by every package's tests without a rebuild.
 */
export const workspaceAliases = [
  { find: /^@taskbuffer\/core\/testing$/, replacement: here('./packages/core/src/testing/index.ts') },
  { find: /^@taskbuffer\/core$/, replacement: here('./packages/core/src/index.ts') },
  { find: /^@taskbuffer\/constraints$/, replacement: here('./packages/constraints/src/index.ts') },
  { find: /^@taskbuffer\/scheduler$/, replacement: here('./packages/scheduler/src/index.ts') },
  {
    find: /^@taskbuffer\/coordinator-redis$/,
    replacement: here('./packages/coordinator-redis/src/index.ts'),
  },
  { find: /^@taskbuffer\/dashboard\/testing$/, replacement: here('./packages/dashboard/src/testing/index.ts') },
  { find: /^@taskbuffer\/dashboard\/server$/, replacement: here('./packages/dashboard/src/server/index.ts') },
  { find: /^@taskbuffer\/dashboard$/, replacement: here('./packages/dashboard/src/index.ts') },
];
