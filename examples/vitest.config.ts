import { defineProject } from 'vitest/config';
import { workspaceAliases } from '../vitest.shared.ts';

// Typecheck runs tsc over the whole tsconfig (`spec`), so a README example in a
// runtime `*.test.ts` that stops compiling fails the run too, as an unhandled
// source error; `*.test-d.ts` files hold type-only tests.
export default defineProject({
  resolve: { alias: workspaceAliases },
  test: {
    name: 'spec-examples',
    include: ['spec/**/*.test.ts', 'shutdown/**/*.test.ts'],
    typecheck: { enabled: true, include: ['spec/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
